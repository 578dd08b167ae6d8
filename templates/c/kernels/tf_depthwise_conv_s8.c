/*
 * tf_depthwise_conv_s8: depthwise convolution, dense weights (see tf_nn.h).
 *
 * Channel multiplier 1 (the common case), groups of four channels: SMLAD
 * multiplies two int16 pairs into one accumulator, so it pairs two TAPS of
 * one channel. For taps a and b, the input words A (four channels of tap a)
 * and B give PKHBT(A, B) = [a:c0 a:c1 b:c0 b:c1] and PKHTB = [a:c2 a:c3 b:c2
 * b:c3]; SXTB16 and SXTB16 ror 8 of these are the pairs [a:c, b:c] of the
 * four channels, and one SMLAD each with the pre-arranged weight pairs
 * [w(a, c), w(b, c)] adds both taps. An odd last tap takes SMLABB/SMLATT.
 *
 * The input offset is folded into the bias once per call (sum (x + off) w =
 * sum x w + off sum w, wrapping like the accumulator), so the inputs are
 * only sign-extended. Out-of-bounds taps read a row of the input zero point
 * in the scratch, where x + off = 0: they add exactly nothing, so border
 * pixels run the same arithmetic as interior ones, through a per-pixel table
 * of each tap's address.
 *
 * Everything a group of four channels needs is one stream in the scratch,
 * read in order with LDM: the folded biases; per tap pair the two taps'
 * offsets from an interior pixel's first tap, then the weight pairs; per
 * channel the prepared multiplier (folded nudge, multiplier, shift). When
 * the whole int8 range is kept and every channel has its zero point folded
 * (stage.fused), each output is requantized and stored right after its MACs
 * in 7 instructions; otherwise the accumulators go through
 * tf_nn_requant_channels_s8. A layer where some channels shift left
 * (multiplier 0.5 or more, as pruning makes common) takes the same blocks
 * with a store that tests each channel's kind: 10 instructions for a right
 * shift, 9 for a left shift (TF_STORE_LEFT_FOLDED).
 *
 * The fused 3x3 case, on the target, is one asm block per group (gcc spilled
 * the C version): for interior pixels 92 instructions per 36 MACs (one LDM
 * of offsets and weights, two loads, 2 PKH, 4 SXTB16, 4 SMLAD per tap pair),
 * taking the tap addresses from the stream's offsets; for border pixels 101,
 * from the table. Other shapes use the same steps in C (tf_dw_groups). A
 * channel multiplier above 1 and the last channels (O % 4) take a scalar loop
 * over tap-major int8 weights.
 */
#include "tf_nn.h"
#include "tf_nn_internal.h"
#include "tf_nn_support.h"

/*
 * Words per group of four channels in the stream: biases, per tap pair two
 * offsets and four weight words, for an odd last tap one offset and two
 * weight words, the requantization of the four channels.
 */
#define TF_DW_GROUP_WORDS(taps) (4 + 6 * ((taps) >> 1) + 3 * ((taps)&1) + 16)

int32_t tf_depthwise_conv_s8_get_buffer_size(const tf_dims *filter_dims) {
    const int32_t o = filter_dims->n;
    const int32_t taps = filter_dims->h * filter_dims->w;
    /* Multipliers and accumulators, stream, zero-point row, int8 weights, tap table. */
    return ((int32_t)sizeof(tf_requant) + 4) * o + 4 * TF_DW_GROUP_WORDS(taps) * (o >> 2) +
           ((o + 3) & ~3) + ((taps * o + 3) & ~3) + 8 * (taps + 1) + 4;
}

#if TF_HAVE_FUSED_STORE
/*
 * Requantizes x with the next channel of the stream at s ([folded_lo,
 * folded_hi, multiplier, high_shift], one LDM: hence the fixed registers),
 * saturates and stores it at p[idx]. As TF_STORE_FULL_FOLDED otherwise;
 * int32_min = INT32_MIN must be in scope.
 */
#define TF_DW_STORE(x, stream_, p, idx)                                                            \
    do {                                                                                           \
        register int32_t lo_ __asm("r4");                                                          \
        register int32_t hi_ __asm("r5");                                                          \
        register int32_t m_ __asm("r6");                                                           \
        register int32_t hs_ __asm("r8");                                                          \
        int32_t neg_;                                                                              \
        __asm volatile(                                                                            \
            "ldmia %[s]!, {%[lo], %[hi], %[m], %[hs]}\n\t"                                         \
            "smlal %[lo], %[hi], %[xv], %[m]\n\t"                                                  \
            "lsr %[neg], %[xv], #31\n\t"                                                           \
            "smlal %[lo], %[hi], %[neg], %[min]\n\t"                                               \
            "asr %[hi], %[hi], %[hs]\n\t"                                                          \
            "ssat %[hi], #8, %[hi]\n\t"                                                            \
            "strb %[hi], [%[pp], %[po]]"                                                           \
            : [s] "+r"(stream_), [lo] "=&r"(lo_), [hi] "=&r"(hi_), [m] "=&r"(m_), [hs] "=&r"(hs_), \
              [neg] "=&r"(neg_)                                                                    \
            : [xv] "r"(x), [min] "r"(int32_min), [pp] "r"(p), [po] "i"(idx)                        \
            : "memory");                                                                           \
    } while (0)

/*
 * TF_DW_STORE for a layer with left shifts: a negative hs (INT32_MIN | s)
 * takes TF_STORE_LEFT_FOLDED's steps instead.
 */
#define TF_DW_STORE_MIXED(x, stream_, p, idx)                                                      \
    do {                                                                                           \
        register int32_t lo_ __asm("r4");                                                          \
        register int32_t hi_ __asm("r5");                                                          \
        register int32_t m_ __asm("r6");                                                           \
        register int32_t hs_ __asm("r8");                                                          \
        int32_t neg_;                                                                              \
        __asm volatile(                                                                            \
            "ldmia %[s]!, {%[lo], %[hi], %[m], %[hs]}\n\t"                                         \
            "cmp %[hs], #0\n\t"                                                                    \
            "blt 1f\n\t"                                                                           \
            "smlal %[lo], %[hi], %[xv], %[m]\n\t"                                                  \
            "lsr %[neg], %[xv], #31\n\t"                                                           \
            "smlal %[lo], %[hi], %[neg], %[min]\n\t"                                               \
            "asr %[hi], %[hi], %[hs]\n\t"                                                          \
            "b 2f\n\t"                                                                             \
            "1:\n\t"                                                                               \
            "lsl %[neg], %[xv], %[hs]\n\t"                                                         \
            "ssat %[neg], #16, %[neg]\n\t"                                                         \
            "smlal %[lo], %[hi], %[neg], %[m]\n\t"                                                 \
            "smlal %[lo], %[hi], %[neg], %[m]\n\t"                                                 \
            "2:\n\t"                                                                               \
            "ssat %[hi], #8, %[hi]\n\t"                                                            \
            "strb %[hi], [%[pp], %[po]]"                                                           \
            : [s] "+r"(stream_), [lo] "=&r"(lo_), [hi] "=&r"(hi_), [m] "=&r"(m_), [hs] "=&r"(hs_), \
              [neg] "=&r"(neg_)                                                                    \
            : [xv] "r"(x), [min] "r"(int32_min), [pp] "r"(p), [po] "i"(idx)                        \
            : "cc", "memory");                                                                     \
    } while (0)
#endif

/*
 * Taps at pa and pb (+ g4) into a0..a3: two words, PKHBT/PKHTB, four SXTB16,
 * one LDM of the weight pairs from sp, four SMLAD.
 */
#define TF_DW_PAIR(pa, pb)                              \
    do {                                                \
        const int32_t xa_ = tf_read_s8x4((pa) + g4);    \
        const int32_t xb_ = tf_read_s8x4((pb) + g4);    \
        const int32_t lo_ = tf_pack_low16(xa_, xb_);    \
        const int32_t hi_ = tf_pack_high16(xa_, xb_);   \
        int32_t w0_, w1_, w2_, w3_;                     \
        sp += 2; /* the offsets: for interior pixels */ \
        TF_LOAD4(sp, w0_, w1_, w2_, w3_);               \
        a0 = tf_smlad(tf_sxtb16(lo_), w0_, a0);         \
        a1 = tf_smlad(tf_sxtb16_ror8(lo_), w1_, a1);    \
        a2 = tf_smlad(tf_sxtb16(hi_), w2_, a2);         \
        a3 = tf_smlad(tf_sxtb16_ror8(hi_), w3_, a3);    \
    } while (0)

/* One tap at pa (+ g4): weights [w0, w2] [w1, w3], SMLABB/SMLATT. */
#define TF_DW_SINGLE(pa)                             \
    do {                                             \
        const int32_t xv_ = tf_read_s8x4((pa) + g4); \
        const int32_t x02_ = tf_sxtb16(xv_);         \
        const int32_t x13_ = tf_sxtb16_ror8(xv_);    \
        a0 = tf_smlabb(x02_, sp[1], a0);             \
        a2 = tf_smlatt(x02_, sp[1], a2);             \
        a1 = tf_smlabb(x13_, sp[2], a1);             \
        a3 = tf_smlatt(x13_, sp[2], a3);             \
        sp += 3;                                     \
    } while (0)

#if TF_HAVE_FUSED_STORE && defined(__OPTIMIZE__)
/* One tap pair of the 3x3 group below: table[k], table[k + 1]. */
#define TF_DW_ASM_PAIR(k)                           \
    "ldrd %[x], %[y], %[t" #k                       \
    "]\n\t"                                         \
    "ldr %[x], [%[x], %[g]]\n\t"                    \
    "ldr %[y], [%[y], %[g]]\n\t"                    \
    "pkhbt %[z], %[x], %[y], lsl #16\n\t"           \
    "pkhtb %[y], %[y], %[x], asr #16\n\t"           \
    "add %[s], %[s], #8\n\t"                        \
    "ldmia %[s]!, {%[w0], %[w1], %[w2], %[w3]}\n\t" \
    "sxtb16 %[x], %[z]\n\t"                         \
    "smlad %[a0], %[x], %[w0], %[a0]\n\t"           \
    "sxtb16 %[z], %[z], ror #8\n\t"                 \
    "smlad %[a1], %[z], %[w1], %[a1]\n\t"           \
    "sxtb16 %[x], %[y]\n\t"                         \
    "smlad %[a2], %[x], %[w2], %[a2]\n\t"           \
    "sxtb16 %[y], %[y], ror #8\n\t"                 \
    "smlad %[a3], %[y], %[w3], %[a3]\n\t"

/* Requantizes and stores channel j of the group (TF_DW_STORE, z = out, y = INT32_MIN). */
#define TF_DW_ASM_STORE(a, j)                       \
    "ldmia %[s]!, {%[w0], %[w1], %[w2], %[w3]}\n\t" \
    "smlal %[w0], %[w1], %[" #a                     \
    "], %[w2]\n\t"                                  \
    "lsr %[x], %[" #a                               \
    "], #31\n\t"                                    \
    "smlal %[w0], %[w1], %[x], %[y]\n\t"            \
    "asr %[w1], %[w1], %[w3]\n\t"                   \
    "ssat %[w1], #8, %[w1]\n\t"                     \
    "strb %[w1], [%[z], #" #j "]\n\t"

/* TF_DW_ASM_STORE, or for a negative w3 (INT32_MIN | s) the left-shift store. */
#define TF_DW_ASM_STORE_MIXED(a, j)                 \
    "ldmia %[s]!, {%[w0], %[w1], %[w2], %[w3]}\n\t" \
    "cmp %[w3], #0\n\t"                             \
    "blt 1f\n\t"                                    \
    "smlal %[w0], %[w1], %[" #a                     \
    "], %[w2]\n\t"                                  \
    "lsr %[x], %[" #a                               \
    "], #31\n\t"                                    \
    "smlal %[w0], %[w1], %[x], %[y]\n\t"            \
    "asr %[w1], %[w1], %[w3]\n\t"                   \
    "b 2f\n\t"                                      \
    "1:\n\t"                                        \
    "lsl %[x], %[" #a                               \
    "], %[w3]\n\t"                                  \
    "ssat %[x], #16, %[x]\n\t"                      \
    "smlal %[w0], %[w1], %[x], %[w2]\n\t"           \
    "smlal %[w0], %[w1], %[x], %[w2]\n\t"           \
    "2:\n\t"                                        \
    "ssat %[w1], #8, %[w1]\n\t"                     \
    "strb %[w1], [%[z], #" #j "]\n\t"

/*
 * A fused 3x3 group of a border pixel in one asm block: biases (one LDM,
 * hence a0..a3 in r0..r3), four tap pairs and the ninth tap from the table
 * (read from the stack: one register fewer; the stream's offsets are
 * skipped), the four outputs stored at table[9] + g4 with STORE. 101
 * instructions per 36 MACs with TF_DW_ASM_STORE.
 */
#define TF_DW_GROUP_3X3(NAME, STORE, ...)                                                          \
    static inline const int32_t *NAME(const int32_t *sp, const int8_t *const *table, int32_t g4) { \
        register int32_t a0 __asm("r0");                                                           \
        register int32_t a1 __asm("r1");                                                           \
        register int32_t a2 __asm("r2");                                                           \
        register int32_t a3 __asm("r3");                                                           \
        register int32_t w0 __asm("r4");                                                           \
        register int32_t w1 __asm("r5");                                                           \
        register int32_t w2 __asm("r6");                                                           \
        register int32_t w3 __asm("r8");                                                           \
        int32_t x, y, z;                                                                           \
        __asm volatile(TF_DW_3X3_BORDER_ASM(STORE)                                                 \
                       : [s] "+r"(sp), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2),             \
                         [a3] "=&r"(a3), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2),           \
                         [w3] "=&r"(w3), [x] "=&r"(x), [y] "=&r"(y), [z] "=&r"(z)                  \
                       : [t0] "m"(table[0]), [t2] "m"(table[2]), [t4] "m"(table[4]),               \
                         [t6] "m"(table[6]), [t8] "m"(table[8]), [t9] "m"(table[9]), [g] "r"(g4)   \
                       : __VA_ARGS__);                                                             \
        return sp;                                                                                 \
    }

#define TF_DW_3X3_BORDER_ASM(STORE) \
    "ldmia %[s]!, {%[a0], %[a1], %[a2], %[a3]}\n\t" TF_DW_ASM_PAIR(0) TF_DW_ASM_PAIR(2) \
        TF_DW_ASM_PAIR(4) TF_DW_ASM_PAIR(6) "ldrd %[x], %[z], %[t8]\n\t"                \
                                            "ldr %[x], [%[x], %[g]]\n\t"                \
                                            "ldrd %[w1], %[w2], [%[s], #4]\n\t"         \
                                            "add %[s], %[s], #12\n\t"                   \
                                            "sxtb16 %[w0], %[x]\n\t"                    \
                                            "sxtb16 %[x], %[x], ror #8\n\t"             \
                                            "smlabb %[a0], %[w0], %[w1], %[a0]\n\t"     \
                                            "smlatt %[a2], %[w0], %[w1], %[a2]\n\t"     \
                                            "smlabb %[a1], %[x], %[w2], %[a1]\n\t"      \
                                            "smlatt %[a3], %[x], %[w2], %[a3]\n\t"      \
                                            "add %[z], %[z], %[g]\n\t"                  \
                                            "mov %[y], #0x80000000\n\t" STORE(a0, 0)    \
                                                STORE(a1, 1) STORE(a2, 2) STORE(a3, 3)

TF_DW_GROUP_3X3(tf_dw_group_3x3, TF_DW_ASM_STORE, "memory")
TF_DW_GROUP_3X3(tf_dw_group_3x3_mixed, TF_DW_ASM_STORE_MIXED, "cc", "memory")

/* One tap pair of the interior 3x3 group: offsets and weights in one LDM. */
#define TF_DW_ASM_PAIR_INTERIOR                                   \
    "ldmia %[s]!, {%[o0], %[o1], %[w0], %[w1], %[w2], %[w3]}\n\t" \
    "ldr %[o0], [%[p], %[o0]]\n\t"                                \
    "ldr %[o1], [%[p], %[o1]]\n\t"                                \
    "pkhbt %[z], %[o0], %[o1], lsl #16\n\t"                       \
    "pkhtb %[o1], %[o1], %[o0], asr #16\n\t"                      \
    "sxtb16 %[o0], %[z]\n\t"                                      \
    "smlad %[a0], %[o0], %[w0], %[a0]\n\t"                        \
    "sxtb16 %[z], %[z], ror #8\n\t"                               \
    "smlad %[a1], %[z], %[w1], %[a1]\n\t"                         \
    "sxtb16 %[o0], %[o1]\n\t"                                     \
    "smlad %[a2], %[o0], %[w2], %[a2]\n\t"                        \
    "sxtb16 %[o1], %[o1], ror #8\n\t"                             \
    "smlad %[a3], %[o1], %[w3], %[a3]\n\t"

/* Requantizes and stores channel j (z = out, w2 = INT32_MIN, the record in o0, o1, w0, w1). */
#define TF_DW_ASM_STORE_INTERIOR(a, j)              \
    "ldmia %[s]!, {%[o0], %[o1], %[w0], %[w1]}\n\t" \
    "smlal %[o0], %[o1], %[" #a                     \
    "], %[w0]\n\t"                                  \
    "lsr %[w3], %[" #a                              \
    "], #31\n\t"                                    \
    "smlal %[o0], %[o1], %[w3], %[w2]\n\t"          \
    "asr %[o1], %[o1], %[w1]\n\t"                   \
    "ssat %[o1], #8, %[o1]\n\t"                     \
    "strb %[o1], [%[z], #" #j "]\n\t"

/* TF_DW_ASM_STORE_INTERIOR, or for a negative w1 (INT32_MIN | s) the left-shift store. */
#define TF_DW_ASM_STORE_INTERIOR_MIXED(a, j)        \
    "ldmia %[s]!, {%[o0], %[o1], %[w0], %[w1]}\n\t" \
    "cmp %[w1], #0\n\t"                             \
    "blt 1f\n\t"                                    \
    "smlal %[o0], %[o1], %[" #a                     \
    "], %[w0]\n\t"                                  \
    "lsr %[w3], %[" #a                              \
    "], #31\n\t"                                    \
    "smlal %[o0], %[o1], %[w3], %[w2]\n\t"          \
    "asr %[o1], %[o1], %[w1]\n\t"                   \
    "b 2f\n\t"                                      \
    "1:\n\t"                                        \
    "lsl %[w3], %[" #a                              \
    "], %[w1]\n\t"                                  \
    "ssat %[w3], #16, %[w3]\n\t"                    \
    "smlal %[o0], %[o1], %[w3], %[w0]\n\t"          \
    "smlal %[o0], %[o1], %[w3], %[w0]\n\t"          \
    "2:\n\t"                                        \
    "ssat %[o1], #8, %[o1]\n\t"                     \
    "strb %[o1], [%[z], #" #j "]\n\t"

#define TF_DW_3X3_INTERIOR_ASM(STORE)                                           \
    "ldmia %[s]!, {%[a0], %[a1], %[a2], %[a3]}\n\t" TF_DW_ASM_PAIR_INTERIOR     \
        TF_DW_ASM_PAIR_INTERIOR TF_DW_ASM_PAIR_INTERIOR TF_DW_ASM_PAIR_INTERIOR \
    "ldmia %[s]!, {%[o0], %[o1], %[w0]}\n\t"                                    \
    "ldr %[o0], [%[p], %[o0]]\n\t"                                              \
    "sxtb16 %[z], %[o0]\n\t"                                                    \
    "sxtb16 %[o0], %[o0], ror #8\n\t"                                           \
    "smlabb %[a0], %[z], %[o1], %[a0]\n\t"                                      \
    "smlatt %[a2], %[z], %[o1], %[a2]\n\t"                                      \
    "smlabb %[a1], %[o0], %[w0], %[a1]\n\t"                                     \
    "smlatt %[a3], %[o0], %[w0], %[a3]\n\t"                                     \
    "ldr %[z], %[d]\n\t"                                                        \
    "add %[z], %[z], %[p]\n\t"                                                  \
    "mov %[w2], #0x80000000\n\t" STORE(a0, 0) STORE(a1, 1) STORE(a2, 2) STORE(a3, 3)

/*
 * The 3x3 group of a pixel whose taps are all in bounds: p is the pixel's
 * first tap (top left) plus the group's channel, the tap offsets come from
 * the stream with the weights (no table), and the outputs go to p +
 * *out_delta, with STORE. 92 instructions per 36 MACs with
 * TF_DW_ASM_STORE_INTERIOR. Not r7 (Thumb frame pointer) nor r9 (platform
 * register of some ABIs).
 */
#define TF_DW_GROUP_3X3_INTERIOR(NAME, STORE, ...)                                       \
    static inline const int32_t *NAME(const int32_t *sp, const int8_t *p,                \
                                      const int32_t *out_delta) {                        \
        register int32_t a0 __asm("r0");                                                 \
        register int32_t a1 __asm("r1");                                                 \
        register int32_t a2 __asm("r2");                                                 \
        register int32_t a3 __asm("r3");                                                 \
        register int32_t o0 __asm("r4");                                                 \
        register int32_t o1 __asm("r5");                                                 \
        register int32_t w0 __asm("r6");                                                 \
        register int32_t w1 __asm("r8");                                                 \
        register int32_t w2 __asm("r10");                                                \
        register int32_t w3 __asm("r11");                                                \
        int32_t z;                                                                       \
        __asm volatile(TF_DW_3X3_INTERIOR_ASM(STORE)                                     \
                       : [s] "+r"(sp), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2),   \
                         [a3] "=&r"(a3), [o0] "=&r"(o0), [o1] "=&r"(o1), [w0] "=&r"(w0), \
                         [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3), [z] "=&r"(z)    \
                       : [p] "r"(p), [d] "m"(*out_delta)                                 \
                       : __VA_ARGS__);                                                   \
        return sp;                                                                       \
    }

TF_DW_GROUP_3X3_INTERIOR(tf_dw_group_3x3_interior, TF_DW_ASM_STORE_INTERIOR, "memory")
TF_DW_GROUP_3X3_INTERIOR(tf_dw_group_3x3_interior_mixed, TF_DW_ASM_STORE_INTERIOR_MIXED, "cc",
                         "memory")
#define TF_DW_HAVE_ASM_3X3 1
#else
#define TF_DW_HAVE_ASM_3X3 0
#endif

#if TF_USE_DSP
/* Two tap addresses table[k], table[k + 1] in one LDRD. */
#define TF_DW_TAPS2(table, k, pa, pb)                                       \
    __asm volatile("ldrd %0, %1, [%2, %3]"                                  \
                   : "=r"(pa), "=r"(pb)                                     \
                   : "r"(table), "i"((k) * (int32_t)sizeof(const int8_t *)) \
                   : "memory")
/* The four biases of a group: two post-indexed LDRD into any registers. */
#define TF_DW_BIASES(sp, a0, a1, a2, a3)                                  \
    __asm volatile("ldrd %1, %2, [%0], #8\n\tldrd %3, %4, [%0], #8"       \
                   : "+r"(sp), "=&r"(a0), "=&r"(a1), "=&r"(a2), "=&r"(a3) \
                   :                                                      \
                   : "memory")
#else
#define TF_DW_TAPS2(table, k, pa, pb) \
    do {                              \
        (pa) = (table)[k];            \
        (pb) = (table)[(k) + 1];      \
    } while (0)
#define TF_DW_BIASES(sp, a0, a1, a2, a3) TF_LOAD4(sp, a0, a1, a2, a3)
#endif

#if defined(__GNUC__)
#define TF_DW_INLINE static inline __attribute__((always_inline))
#else
#define TF_DW_INLINE static inline
#endif

/*
 * One output pixel, channels [0, vector_end): the groups of four in order,
 * reading the stream from its start and the pixel's tap table. Inlined with
 * constant taps and fused for the common 3x3 case. fused: 0 (accumulators
 * to acc), 1 (every channel shifts right: TF_DW_STORE), 2 (some shift left:
 * TF_DW_STORE_MIXED).
 */
TF_DW_INLINE void tf_dw_groups(const int32_t *sp, const int8_t *const *table, int32_t vector_end,
                               int32_t taps, int32_t fused, int32_t *acc, int8_t *out) {
#if TF_HAVE_FUSED_STORE
    const int32_t int32_min = INT32_MIN;
#else
    (void)fused;
    (void)out;
#endif
    for (int32_t g4 = 0; g4 < vector_end; g4 += 4) {
        int32_t a0, a1, a2, a3;
        const int8_t *pa, *pb;
        TF_DW_BIASES(sp, a0, a1, a2, a3);
        if (taps == 9) {
            /* 3x3, unrolled. */
            TF_DW_TAPS2(table, 0, pa, pb);
            TF_DW_PAIR(pa, pb);
            TF_DW_TAPS2(table, 2, pa, pb);
            TF_DW_PAIR(pa, pb);
            TF_DW_TAPS2(table, 4, pa, pb);
            TF_DW_PAIR(pa, pb);
            TF_DW_TAPS2(table, 6, pa, pb);
            TF_DW_PAIR(pa, pb);
            TF_DW_SINGLE(table[8]);
        } else {
            const int8_t *const *tp = table;
            for (int32_t k = taps >> 1; k > 0; k--, tp += 2) {
                TF_DW_TAPS2(tp, 0, pa, pb);
                TF_DW_PAIR(pa, pb);
            }
            if (taps & 1) TF_DW_SINGLE(tp[0]);
        }
#if TF_HAVE_FUSED_STORE
        if (fused == 1) {
            TF_DW_STORE(a0, sp, out, 0);
            TF_DW_STORE(a1, sp, out, 1);
            TF_DW_STORE(a2, sp, out, 2);
            TF_DW_STORE(a3, sp, out, 3);
            out += 4;
            continue;
        }
        if (fused) {
            TF_DW_STORE_MIXED(a0, sp, out, 0);
            TF_DW_STORE_MIXED(a1, sp, out, 1);
            TF_DW_STORE_MIXED(a2, sp, out, 2);
            TF_DW_STORE_MIXED(a3, sp, out, 3);
            out += 4;
            continue;
        }
#endif
        acc[g4] = a0;
        acc[g4 + 1] = a1;
        acc[g4 + 2] = a2;
        acc[g4 + 3] = a3;
        sp += 16;
    }
}

tf_status tf_depthwise_conv_s8(const tf_context *ctx, const tf_conv_params *params,
                               const tf_per_channel_quant *quant, const tf_dims *input_dims,
                               const int8_t *input, const tf_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias,
                               const tf_dims *output_dims, int8_t *output) {
    if (params == 0 || quant == 0 || input_dims == 0 || input == 0 || filter_dims == 0 ||
        filter == 0 || output_dims == 0 || output == 0 || filter_dims->c != 1 ||
        input_dims->c < 1 || filter_dims->n % input_dims->c != 0 ||
        output_dims->c != filter_dims->n || params->stride_h < 1 || params->stride_w < 1 ||
        params->dilation_h < 1 || params->dilation_w < 1 || params->act_min > params->act_max) {
        return TF_STATUS_ARG_ERROR;
    }
    const int32_t o = filter_dims->n;
    if (ctx == 0 || ctx->buf == 0 ||
        ctx->size < tf_depthwise_conv_s8_get_buffer_size(filter_dims)) {
        return TF_STATUS_SCRATCH_ERROR;
    }
    const int32_t c = input_dims->c, m = o / c;
    const int32_t kh = filter_dims->h, kw = filter_dims->w, taps = kh * kw;
    const int32_t h = input_dims->h, w = input_dims->w;
    const int32_t off = params->input_offset;
    const int32_t dh = params->dilation_h, dw = params->dilation_w;
    /* The zero-point row needs the zero point as int8. */
    const int32_t vector_end = m == 1 && off >= -127 && off <= 128 ? (o & ~3) : 0;
    const int32_t groups = vector_end >> 2;
    /* Scratch, in the order of tf_depthwise_conv_s8_get_buffer_size. */
    tf_requant *prepared = (tf_requant *)ctx->buf;
    int32_t *acc = (int32_t *)(prepared + o);
    int32_t *stream = acc + o;
    int8_t *zero_row = (int8_t *)(stream + TF_DW_GROUP_WORDS(taps) * (o >> 2));
    int8_t *wt = zero_row + ((o + 3) & ~3);
    uintptr_t table_at = (uintptr_t)(wt + ((taps * o + 3) & ~3));
    /* Pointers may need 8-byte alignment (64-bit hosts); buf is only 4-aligned. */
    const int8_t **table = (const int8_t **)((table_at + 7) & ~(uintptr_t)7);
    int32_t fused = params->act_min == -128 && params->act_max == 127;
    int32_t any_left = 0;
    for (int32_t i = 0; i < o; i++) {
        prepared[i] = tf_requant_prepare(quant->multiplier[i], quant->shift[i]);
        tf_requant_fold_offset(&prepared[i], params->output_offset);
        fused &= prepared[i].folded;
        any_left |= i < vector_end && prepared[i].shift >= 0;
    }
    /* The vector path's store: 1 right shifts only, 2 some left shifts (tf_dw_groups). */
    const int32_t store_kind = fused ? 1 + any_left : 0;
    /* Tap-major int8 weights for the scalar loop (the channels it takes). */
    for (int32_t t = 0; t < taps; t++) {
        for (int32_t i = vector_end; i < o; i++) wt[t * o + i] = filter[i * taps + t];
    }
    /* Tap offsets from an interior pixel's first tap (in the table, unused until the pixels). */
    int32_t *tap_offset = (int32_t *)table;
    for (int32_t ky = 0, t = 0; ky < kh; ky++) {
        for (int32_t kx = 0; kx < kw; kx++) tap_offset[t++] = (ky * dh * w + kx * dw) * c;
    }
    int32_t *s = stream;
    for (int32_t g = 0; g < groups; g++) {
        const int8_t *f = filter + 4 * g * taps; /* [4][taps] */
        for (int32_t j = 0; j < 4; j++) {
            int32_t sum = 0;
            for (int32_t t = 0; t < taps; t++) sum += f[j * taps + t];
            const int32_t b0 = bias != 0 ? bias[4 * g + j] : 0;
            s[j] = tf_add_wrap(b0, (int32_t)((uint32_t)off * (uint32_t)sum));
        }
        s += 4;
        for (int32_t t = 0; t < taps; t++) {
            s[0] = tap_offset[t];
            if (t + 1 < taps) {
                s[1] = tap_offset[t + 1];
                for (int32_t j = 0; j < 4; j++) {
                    s[2 + j] = tf_pack_low16(f[j * taps + t], f[j * taps + t + 1]);
                }
                s += 6;
                t++;
            } else {
                /* [w0, w2] [w1, w3]: what SXTB16 and SXTB16 ror 8 make of one input word. */
                s[1] = tf_pack_low16(f[t], f[2 * taps + t]);
                s[2] = tf_pack_low16(f[taps + t], f[3 * taps + t]);
                s += 3;
            }
        }
        for (int32_t j = 0; j < 4; j++, s += 4) {
            const tf_requant *q = &prepared[4 * g + j];
            s[0] = (int32_t)q->folded_lo;
            s[1] = q->folded_hi;
            s[2] = q->multiplier;
            s[3] = q->high_shift;
        }
    }
    memset(zero_row, (int8_t)-off, (size_t)((o + 3) & ~3));
    tf_nn_output_stage stage = tf_nn_per_channel_stage(bias, quant, params->output_offset,
                                                       params->act_min, params->act_max);
    stage.prepared = prepared;
    stage.fused = fused;
#if TF_DW_HAVE_ASM_3X3
    const int8_t *local_table[10];
    /* 1: the 3x3 asm blocks, 2: their twins for left shifts, 0: neither. */
    const int32_t asm_3x3 = taps == 9 ? store_kind : 0;
#else
    const int8_t **local_table = table;
    const int32_t asm_3x3 = 0;
#endif
    /* The vector path's accumulators already hold the folded biases. */
    tf_nn_output_stage no_bias = stage;
    no_bias.bias = 0;
    const int32_t span_h = (kh - 1) * dh, span_w = (kw - 1) * dw;
    int8_t *out = output;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *base = input + (b * h * w) * c;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_top;
            const int32_t rows_in = y0 >= 0 && y0 + span_h < h;
            int32_t x0 = -params->pad_left;
            for (int32_t ox = 0; ox < output_dims->w; ox++, x0 += params->stride_w, out += o) {
                if (groups > 0) {
                    /*
                     * Each tap's first channel, or the zero-point row. The 3x3
                     * asm reads its table from the stack (one register fewer).
                     */
                    const int32_t interior = rows_in && x0 >= 0 && x0 + span_w < w;
                    const int8_t **tab = asm_3x3 ? local_table : table;
#if TF_DW_HAVE_ASM_3X3
                    if (asm_3x3 == 1 && interior) {
                        /* Tap offsets from the stream: no table. */
                        const int8_t *p = base + (y0 * w + x0) * c;
                        const int32_t delta = (int32_t)((uintptr_t)out - (uintptr_t)p);
                        const int32_t *sp = stream;
                        /* A pointer loop: three instructions per group. */
                        for (const int8_t *q = p, *end = p + vector_end; q != end; q += 4) {
                            sp = tf_dw_group_3x3_interior(sp, q, &delta);
                        }
                        if (vector_end < o) goto scalar;
                        continue;
                    }
                    if (asm_3x3 == 2 && interior) {
                        const int8_t *p = base + (y0 * w + x0) * c;
                        const int32_t delta = (int32_t)((uintptr_t)out - (uintptr_t)p);
                        const int32_t *sp = stream;
                        for (const int8_t *q = p, *end = p + vector_end; q != end; q += 4) {
                            sp = tf_dw_group_3x3_interior_mixed(sp, q, &delta);
                        }
                        if (vector_end < o) goto scalar;
                        continue;
                    }
#endif
                    if (interior) {
                        const int8_t *row = base + (y0 * w + x0) * c;
                        for (int32_t ky = 0, t = 0; ky < kh; ky++, row += dh * w * c) {
                            const int8_t *p = row;
                            for (int32_t kx = 0; kx < kw; kx++, t++, p += dw * c) tab[t] = p;
                        }
                    } else {
                        /* Unsigned compares: one test for both bounds. */
                        for (int32_t ky = 0, t = 0; ky < kh; ky++) {
                            const int32_t iy = y0 + ky * dh;
                            if ((uint32_t)iy >= (uint32_t)h) {
                                for (int32_t kx = 0; kx < kw; kx++) tab[t++] = zero_row;
                                continue;
                            }
                            const int8_t *row = base + iy * w * c;
                            for (int32_t kx = 0, ix = x0; kx < kw; kx++, t++, ix += dw) {
                                tab[t] = (uint32_t)ix < (uint32_t)w ? row + ix * c : zero_row;
                            }
                        }
                    }
#if TF_DW_HAVE_ASM_3X3
                    if (asm_3x3 == 1) {
                        local_table[9] = out;
                        const int32_t *sp = stream;
                        for (int32_t g4 = 0; g4 != vector_end; g4 += 4) {
                            sp = tf_dw_group_3x3(sp, local_table, g4);
                        }
                    } else if (asm_3x3 == 2) {
                        local_table[9] = out;
                        const int32_t *sp = stream;
                        for (int32_t g4 = 0; g4 != vector_end; g4 += 4) {
                            sp = tf_dw_group_3x3_mixed(sp, local_table, g4);
                        }
                    } else {
                        tf_dw_groups(stream, table, vector_end, taps, store_kind, acc, out);
                    }
#else
                    if (taps == 9 && fused) {
                        tf_dw_groups(stream, table, vector_end, 9, store_kind, acc, out);
                    } else {
                        tf_dw_groups(stream, table, vector_end, taps, store_kind, acc, out);
                    }
#endif
                    if (!fused || !TF_HAVE_FUSED_STORE) {
                        tf_nn_requant_channels_s8(acc, vector_end, &no_bias, out);
                    }
                }
                if (vector_end == o) continue;
#if TF_DW_HAVE_ASM_3X3
            scalar:
#endif
                for (int32_t i = vector_end; i < o; i++) acc[i] = 0;
                for (int32_t ky = 0; ky < kh; ky++) {
                    const int32_t iy = y0 + ky * dh;
                    if (iy < 0 || iy >= h) continue;
                    for (int32_t kx = 0; kx < kw; kx++) {
                        const int32_t ix = x0 + kx * dw;
                        if (ix < 0 || ix >= w) continue;
                        const int8_t *x = base + (iy * w + ix) * c;
                        const int8_t *wr = wt + (ky * kw + kx) * o;
                        for (int32_t i = vector_end; i < o; i++) {
                            acc[i] = tf_add_wrap(acc[i], (x[i / m] + off) * wr[i]);
                        }
                    }
                }
                for (int32_t i = vector_end; i < o; i++) out[i] = tf_nn_output(acc[i], i, &stage);
            }
        }
    }
    return TF_STATUS_OK;
}
