/*
 * tf_nn_requant_rows4_s8: the output pass of the matrix kernels. Per output
 * channel one prepared multiplier (tf_requant) serves four accumulators.
 *
 * For a right shift (every usual layer) one output costs, on the target,
 * seven instructions: LDRD of the 64-bit nudge (with the zero point folded
 * in, TF_STORE_FULL_FOLDED), SMLAL of x * m, LSR + SMLAL adding INT32_MIN
 * when x < 0 (the sign correction of tf_requant_apply), ASR of the high
 * word, SSAT to int8 and the store; one more when the zero point cannot be
 * folded, plus a compare-and-select pair per clamp bound when the activation
 * range is narrower than int8 (fused ReLU / ReLU6). A layer where some
 * channels shift left (multiplier 0.5 or more) and the clamp is the whole
 * range takes TF_STORE_FULL_FOLDED or TF_STORE_LEFT_FOLDED per channel (7
 * instructions per output either way, one test per channel). Host builds
 * compute the same with tf_requant_folded_s8.
 */
#include "tf_nn_internal.h"
#include "tf_nn_support.h"

/* (tf_requant_apply(q, x) for q->shift < 0) + zp. */
static inline int32_t requant_right(int32_t x, const tf_requant *q, int32_t m, int32_t hs,
                                    int32_t zp, int32_t int32_min) {
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7 && defined(__thumb2__) && defined(__OPTIMIZE__)
    uint32_t lo;
    int32_t hi;
    uint32_t negative;
    __asm(
        "ldrd %[lo], %[hi], [%[q], %[off]]\n\t"
        "smlal %[lo], %[hi], %[x], %[m]\n\t"
        "lsr %[neg], %[x], #31\n\t"
        "smlal %[lo], %[hi], %[neg], %[min]\n\t"
        "asr %[hi], %[hi], %[hs]\n\t"
        "add %[hi], %[hi], %[zp]"
        : [lo] "=&r"(lo), [hi] "=&r"(hi), [neg] "=&r"(negative)
        : [q] "r"(q), [off] "i"(__builtin_offsetof(tf_requant, nudge_lo)), [x] "r"(x), [m] "r"(m),
          [min] "r"(int32_min), [hs] "r"(hs), [zp] "r"(zp)
        : "memory");
    (void)lo;
    return hi;
#else
    (void)m;
    (void)hs;
    (void)int32_min;
    return tf_requant_apply(q, x) + zp;
#endif
}

#if TF_USE_DSP
#define TF_SAT8(y) __ssat((y), 8)
#else
#define TF_SAT8(y) TF_MIN(TF_MAX((y), -128), 127)
#endif

#if TF_HAVE_FUSED_STORE
/*
 * Right shift, whole int8 range, zero point not folded: requantize x and store it at p[offset], all
 * in one asm block so the compiler neither speculates the other path nor
 * strength-reduces the four output addresses into four spilled pointers.
 */
#define TF_STORE_FULL(x, p, offset)                                                       \
    do {                                                                                  \
        uint32_t lo_;                                                                     \
        int32_t hi_;                                                                      \
        uint32_t neg_;                                                                    \
        __asm volatile(TF_ASM_REQUANT_HIGH                                                \
                       "add %[hi], %[hi], %[zp]\n\t"                                      \
                       "ssat %[hi], #8, %[hi]\n\t"                                        \
                       "strb %[hi], [%[pp], %[po]]"                                       \
                       : [lo] "=&r"(lo_), [hi] "=&r"(hi_), [neg] "=&r"(neg_)              \
                       : [q] "r"(q), [off] "i"(__builtin_offsetof(tf_requant, nudge_lo)), \
                         [xv] "r"(x), [m] "r"(m), [min] "r"(int32_min), [hs] "r"(hs),     \
                         [zp] "r"(zp), [pp] "r"(p), [po] "r"(offset)                      \
                       : "memory");                                                       \
        (void)lo_;                                                                        \
    } while (0)
/* The same, then clamped into [lo, hi] (fused ReLU / ReLU6). */
#define TF_STORE_RANGE(x, p, offset)                                                        \
    do {                                                                                    \
        uint32_t lo_;                                                                       \
        int32_t hi_;                                                                        \
        uint32_t neg_;                                                                      \
        __asm volatile(                                                                     \
            TF_ASM_REQUANT_HIGH                                                             \
            "add %[hi], %[hi], %[zp]\n\t"                                                   \
            "ssat %[hi], #8, %[hi]\n\t"                                                     \
            "cmp %[hi], %[amin]\n\t"                                                        \
            "it lt\n\t"                                                                     \
            "movlt %[hi], %[amin]\n\t"                                                      \
            "cmp %[hi], %[amax]\n\t"                                                        \
            "it gt\n\t"                                                                     \
            "movgt %[hi], %[amax]\n\t"                                                      \
            "strb %[hi], [%[pp], %[po]]"                                                    \
            : [lo] "=&r"(lo_), [hi] "=&r"(hi_), [neg] "=&r"(neg_)                           \
            : [q] "r"(q), [off] "i"(__builtin_offsetof(tf_requant, nudge_lo)), [xv] "r"(x), \
              [m] "r"(m), [min] "r"(int32_min), [hs] "r"(hs), [zp] "r"(zp), [pp] "r"(p),    \
              [po] "r"(offset), [amin] "r"(lo), [amax] "r"(hi)                              \
            : "cc", "memory");                                                              \
        (void)lo_;                                                                          \
    } while (0)
#endif

/*
 * One loop per clamp kind, so the compiler keeps each loop's state in
 * registers (a run-time test inside one loop gets if-converted into both).
 */
#define TF_REQUANT_LOOP(CLAMP)                                                \
    do {                                                                      \
        for (int32_t o = 0; o < rows; o++, q += step, acc += 4) {             \
            /* Read before any int8 store (which could alias acc). */         \
            const int32_t x0 = acc[0], x1 = acc[1], x2 = acc[2], x3 = acc[3]; \
            int32_t y0, y1, y2, y3;                                           \
            if (q->shift < 0) {                                               \
                const int32_t m = q->multiplier, hs = q->high_shift;          \
                y0 = requant_right(x0, q, m, hs, zp, int32_min);              \
                y1 = requant_right(x1, q, m, hs, zp, int32_min);              \
                y2 = requant_right(x2, q, m, hs, zp, int32_min);              \
                y3 = requant_right(x3, q, m, hs, zp, int32_min);              \
            } else {                                                          \
                y0 = tf_requant_apply_offset(q, x0, zp);                      \
                y1 = tf_requant_apply_offset(q, x1, zp);                      \
                y2 = tf_requant_apply_offset(q, x2, zp);                      \
                y3 = tf_requant_apply_offset(q, x3, zp);                      \
            }                                                                 \
            p01[0] = (int8_t)CLAMP(y0);                                       \
            p01[stride] = (int8_t)CLAMP(y1);                                  \
            p23[0] = (int8_t)CLAMP(y2);                                       \
            p23[stride] = (int8_t)CLAMP(y3);                                  \
            p01++;                                                            \
            p23++;                                                            \
        }                                                                     \
    } while (0)

#define TF_CLAMP_FULL(y) TF_SAT8(y)
#define TF_CLAMP_RANGE(y) TF_MIN(TF_MAX(TF_SAT8(y), lo), hi)

void tf_nn_requant_rows4_s8(const int32_t *acc, int32_t rows, const tf_nn_output_stage *stage,
                            int8_t *out, int32_t stride) {
    int8_t *p01 = out, *p23 = out + 2 * stride;
    const int32_t zp = stage->output_offset;
    const int32_t lo = stage->act_min, hi = stage->act_max;
    const tf_requant *q = stage->prepared;
    const int32_t step = stage->per_channel ? 1 : 0;
    const int32_t int32_min = INT32_MIN;
#if TF_HAVE_FUSED_STORE
    /* Every channel shifts right (the usual case): the asm paths. */
    int32_t all_right = 1, all_folded = 1;
    for (int32_t o = 0; o < (step ? rows : 1); o++) {
        all_right &= q[o].shift < 0;
        all_folded &= q[o].folded;
    }
    if (!all_right && all_folded && lo == -128 && hi == 127) {
        /* Some channels shift left: each channel's own store. */
        const int32_t zero = 0;
        for (int32_t o = 0; o < rows; o++, q += step, acc += 4, p01++, p23++) {
            const int32_t m = q->multiplier, hs = q->high_shift;
            if (hs >= 0) {
                TF_STORE_FULL_FOLDED(acc[0], p01, zero);
                TF_STORE_FULL_FOLDED(acc[1], p01, stride);
                TF_STORE_FULL_FOLDED(acc[2], p23, zero);
                TF_STORE_FULL_FOLDED(acc[3], p23, stride);
            } else {
                TF_STORE_LEFT_FOLDED(acc[0], p01, zero);
                TF_STORE_LEFT_FOLDED(acc[1], p01, stride);
                TF_STORE_LEFT_FOLDED(acc[2], p23, zero);
                TF_STORE_LEFT_FOLDED(acc[3], p23, stride);
            }
        }
        return;
    }
    if (all_right) {
        const int32_t zero = 0;
        if (lo == -128 && hi == 127 && all_folded) {
            for (int32_t o = 0; o < rows; o++, q += step, acc += 4, p01++, p23++) {
                const int32_t m = q->multiplier, hs = q->high_shift;
                TF_STORE_FULL_FOLDED(acc[0], p01, zero);
                TF_STORE_FULL_FOLDED(acc[1], p01, stride);
                TF_STORE_FULL_FOLDED(acc[2], p23, zero);
                TF_STORE_FULL_FOLDED(acc[3], p23, stride);
            }
        } else if (lo == -128 && hi == 127) {
            for (int32_t o = 0; o < rows; o++, q += step, acc += 4, p01++, p23++) {
                const int32_t m = q->multiplier, hs = q->high_shift;
                TF_STORE_FULL(acc[0], p01, zero);
                TF_STORE_FULL(acc[1], p01, stride);
                TF_STORE_FULL(acc[2], p23, zero);
                TF_STORE_FULL(acc[3], p23, stride);
            }
        } else {
            for (int32_t o = 0; o < rows; o++, q += step, acc += 4, p01++, p23++) {
                const int32_t m = q->multiplier, hs = q->high_shift;
                TF_STORE_RANGE(acc[0], p01, zero);
                TF_STORE_RANGE(acc[1], p01, stride);
                TF_STORE_RANGE(acc[2], p23, zero);
                TF_STORE_RANGE(acc[3], p23, stride);
            }
        }
        return;
    }
#else
    /* The arithmetic of the fused stores when they would run (see above). */
    int32_t all_folded = lo == -128 && hi == 127;
    for (int32_t o = 0; o < (step ? rows : 1); o++) all_folded &= q[o].folded;
    if (all_folded) {
        for (int32_t o = 0; o < rows; o++, q += step, acc += 4, p01++, p23++) {
            const int32_t x0 = acc[0], x1 = acc[1], x2 = acc[2], x3 = acc[3];
            p01[0] = tf_requant_folded_s8(q, x0);
            p01[stride] = tf_requant_folded_s8(q, x1);
            p23[0] = tf_requant_folded_s8(q, x2);
            p23[stride] = tf_requant_folded_s8(q, x3);
        }
        return;
    }
#endif
    if (lo == -128 && hi == 127) {
        TF_REQUANT_LOOP(TF_CLAMP_FULL);
    } else {
        TF_REQUANT_LOOP(TF_CLAMP_RANGE);
    }
}
