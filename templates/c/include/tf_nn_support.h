/*
 * Inline helpers of the SparseEngine kernels: exact TFLite fixed-point
 * arithmetic and the Cortex-M DSP primitives (SMLAD, SXTB16, SADD16) with
 * portable C equivalents, so one source builds for the host and the target.
 * Not part of the stable API.
 */
#ifndef TF_NN_SUPPORT_H
#define TF_NN_SUPPORT_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define TF_USE_DSP 1
#else
#define TF_USE_DSP 0
#endif

#define TF_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TF_MIN(a, b) ((a) < (b) ? (a) : (b))

/* Four int8 values as one word (little endian), any alignment. */
static inline int32_t tf_read_s8x4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Two int16 values as one word (little endian), any alignment. */
static inline int32_t tf_read_s16x2(const int16_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

#if TF_USE_DSP

/* (int16)b0 | (int16)b2 << 16: bytes 0 and 2 sign-extended. */
static inline int32_t tf_sxtb16(int32_t x) { return (int32_t)__sxtb16(x); }

/* Bytes 1 and 3 sign-extended. gcc does not fold a rotate into SXTB16. */
static inline int32_t tf_sxtb16_ror8(int32_t x) {
    int32_t r;
    __asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* Halfword-wise a + tf_sxtb16(x): SXTAB16. */
static inline int32_t tf_sxtab16(int32_t a, int32_t x) { return (int32_t)__sxtab16(a, x); }

/* Halfword-wise a + tf_sxtb16_ror8(x): SXTAB16 with the rotate (see above). */
static inline int32_t tf_sxtab16_ror8(int32_t a, int32_t x) {
    int32_t r;
    __asm("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/* The low halves of lo and hi as one word: PKHBT (gcc 12 does not emit it). */
static inline int32_t tf_pack_low16(int32_t lo, int32_t hi) {
    int32_t r;
    __asm("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

/* The high halves of lo and hi as one word: PKHTB. */
static inline int32_t tf_pack_high16(int32_t lo, int32_t hi) {
    int32_t r;
    __asm("pkhtb %0, %2, %1, asr #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

/* acc + lo(a)*lo(b) + hi(a)*hi(b), halves signed 16-bit, wrapping. */
static inline int32_t tf_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }

/* Halfword-wise a + b (wrapping 16-bit lanes). */
static inline int32_t tf_sadd16(int32_t a, int32_t b) { return (int32_t)__sadd16(a, b); }

/* acc + lo(a) * lo(b), and acc + hi(a) * hi(b) (signed 16-bit halves). */
static inline int32_t tf_smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
static inline int32_t tf_smlatt(int32_t a, int32_t b, int32_t acc) { return __smlatt(a, b, acc); }

#else

static inline int32_t tf_pack16(int32_t lo, int32_t hi) {
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}

static inline int32_t tf_lo16(int32_t x) { return (int16_t)((uint32_t)x & 0xFFFFu); }
static inline int32_t tf_hi16(int32_t x) { return (int16_t)((uint32_t)x >> 16); }

static inline int32_t tf_sxtb16(int32_t x) {
    return tf_pack16((int8_t)((uint32_t)x & 0xFFu), (int8_t)(((uint32_t)x >> 16) & 0xFFu));
}

static inline int32_t tf_sxtb16_ror8(int32_t x) {
    return tf_pack16((int8_t)(((uint32_t)x >> 8) & 0xFFu), (int8_t)((uint32_t)x >> 24));
}

static inline int32_t tf_smlad(int32_t a, int32_t b, int32_t acc) {
    uint32_t s = (uint32_t)acc + (uint32_t)(tf_lo16(a) * tf_lo16(b));
    return (int32_t)(s + (uint32_t)(tf_hi16(a) * tf_hi16(b)));
}

static inline int32_t tf_sadd16(int32_t a, int32_t b) {
    return tf_pack16(tf_lo16(a) + tf_lo16(b), tf_hi16(a) + tf_hi16(b));
}

static inline int32_t tf_sxtab16(int32_t a, int32_t x) { return tf_sadd16(a, tf_sxtb16(x)); }

static inline int32_t tf_pack_low16(int32_t lo, int32_t hi) {
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}

static inline int32_t tf_pack_high16(int32_t lo, int32_t hi) {
    return (int32_t)(((uint32_t)lo >> 16) | ((uint32_t)hi & 0xFFFF0000u));
}

static inline int32_t tf_sxtab16_ror8(int32_t a, int32_t x) {
    return tf_sadd16(a, tf_sxtb16_ror8(x));
}

static inline int32_t tf_smlabb(int32_t a, int32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(tf_lo16(a) * tf_lo16(b)));
}

static inline int32_t tf_smlatt(int32_t a, int32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(tf_hi16(a) * tf_hi16(b)));
}

#endif

/*
 * Loads four consecutive words p[0..3] into a, b, c, d and advances p by 4.
 * On the target one LDM (one instruction for four loads); its register list
 * must ascend, hence the fixed registers.
 */
#if TF_USE_DSP
#define TF_LOAD4(p, a, b, c, d)                                                          \
    do {                                                                                 \
        register int32_t tf_l0_ __asm("r4");                                             \
        register int32_t tf_l1_ __asm("r5");                                             \
        register int32_t tf_l2_ __asm("r6");                                             \
        register int32_t tf_l3_ __asm("r8");                                             \
        __asm volatile("ldmia %0!, {%1, %2, %3, %4}"                                     \
                       : "+r"(p), "=r"(tf_l0_), "=r"(tf_l1_), "=r"(tf_l2_), "=r"(tf_l3_) \
                       :                                                                 \
                       : "memory");                                                      \
        (a) = tf_l0_;                                                                    \
        (b) = tf_l1_;                                                                    \
        (c) = tf_l2_;                                                                    \
        (d) = tf_l3_;                                                                    \
    } while (0)
#else
#define TF_LOAD4(p, a, b, c, d) \
    do {                        \
        (a) = (p)[0];           \
        (b) = (p)[1];           \
        (c) = (p)[2];           \
        (d) = (p)[3];           \
        (p) += 4;               \
    } while (0)
#endif

/* Both int16 halves set to v (v in int16 range). */
static inline int32_t tf_dup16(int32_t v) {
    return (int32_t)(((uint32_t)v & 0xFFFFu) | ((uint32_t)v << 16));
}

/* Wrapping int32 addition (C signed overflow is undefined; C int32 wraps on the target). */
static inline int32_t tf_add_wrap(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/*
 * gemmlowp SaturatingRoundingDoublingHighMul for b != INT32_MIN (a Q31
 * multiplier never is): floor((a*b + 2^30) / 2^31).
 */
static inline int32_t tf_doubling_high_mult(int32_t a, int32_t b) {
    int64_t p = (int64_t)a * b + ((int64_t)1 << 30);
    return (int32_t)(p >> 31);
}

/* gemmlowp RoundingDivideByPOT: x / 2^e rounded half away from zero, e in [0, 31]. */
static inline int32_t tf_rounding_divide_by_pot(int32_t x, int32_t e) {
    const int32_t mask = (int32_t)((1u << e) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (remainder > threshold ? 1 : 0);
}

/*
 * TFLite MultiplyByQuantizedMultiplier, double rounding (CMSIS-NN
 * arm_nn_requantize): left shift (wrapping like the reference), SRDHM, then
 * RoundingDivideByPOT.
 *
 * Kernels requantize through tf_requant_prepare / tf_requant_apply, which
 * compute the same value with fewer instructions: for a right shift e >= 1
 * the two roundings fold into one 64-bit expression. With t = x*m + 2^30
 * (SRDHM = floor(t / 2^31)) and rounding half away from zero,
 *   floor((floor(t / 2^31) + 2^(e-1) - [t < 0]) / 2^e)
 *     = floor((t + 2^(30+e) - 2^31 [t < 0]) / 2^(31+e))      (nested floors)
 * and t < 0 exactly when x < 0, apart from x = -1, m = 2^30 where both sides
 * are 0. As 31 + e >= 32 the result is the high word shifted right by e - 1:
 * one SMLAL onto a per-channel constant, a sign correction and one ASR.
 * |x*m| < 2^62, so nothing overflows.
 */
static inline int32_t tf_requantize(int32_t x, int32_t multiplier, int32_t shift) {
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)x << left);
    return tf_rounding_divide_by_pot(tf_doubling_high_mult(shifted, multiplier), right);
}

/* A channel's multiplier in the form tf_requant_apply uses. */
typedef struct {
    int32_t multiplier;
    /*
     * e - 1 for a right shift e >= 1; for a left shift s >= 0 whose zero
     * point is folded (tf_requant_fold_offset), INT32_MIN | s: negative, and
     * its low byte is s, which is all a register-controlled LSL reads.
     */
    int32_t high_shift;
    int32_t shift;     /* the original shift */
    uint32_t nudge_lo; /* 2^30 + 2^(30 + e), low and high words */
    int32_t nudge_hi;
    /*
     * Right shift: the nudge plus output_offset * 2^(32 + high_shift), so
     * that the high word shifted right already includes the output zero
     * point (only when e <= 21, so the 64-bit sum cannot overflow). Left
     * shift: 2^31 + output_offset * 2^32 (tf_requant_fold_offset). `folded`
     * says whether it was set: then tf_requant_folded_s8 (and the fused asm
     * stores) give the requantized, saturated int8 output.
     */
    uint32_t folded_lo;
    int32_t folded_hi;
    int32_t folded;
} tf_requant;

static inline tf_requant tf_requant_prepare(int32_t multiplier, int32_t shift) {
    tf_requant r;
    r.multiplier = multiplier;
    r.shift = shift;
    r.high_shift = shift < 0 ? -shift - 1 : 0;
    const int64_t nudge = shift < 0 ? ((int64_t)1 << 30) + ((int64_t)1 << (30 - shift)) : 0;
    r.nudge_lo = (uint32_t)nudge;
    r.nudge_hi = (int32_t)(nudge >> 32);
    r.folded_lo = r.nudge_lo;
    r.folded_hi = r.nudge_hi;
    r.folded = 0;
    return r;
}

/* The largest |output_offset| the left-shift fold accepts (see below). */
#define TF_REQUANT_LEFT_MAX_OFFSET 16256

/*
 * Folds the output zero point into the 64-bit constant the fused stores add.
 *
 * Right shift e: floor((t + zp * 2^(32+h)) / 2^(32+h)) = floor(t / 2^(32+h))
 * + zp exactly, and with h <= 20 the sum stays below 2^63 (|x * m| < 2^62,
 * |zp| * 2^52 < 2^60).
 *
 * Left shift s in [0, 31], multiplier m = 0 or in [2^30, 2^31) (what
 * quantizing a real multiplier gives), |zp| <= TF_REQUANT_LEFT_MAX_OFFSET:
 * the fused store computes t = x << s (wrapping, as the reference),
 * saturates t to int16, and takes the high word of 2^31 + zp * 2^32 + 2 t m,
 * which is floor((t m + 2^30) / 2^31) + zp = SRDHM(t, m) + zp; then
 * saturates to int8. Saturating t first changes no int8 output: SRDHM(t, m)
 * does not decrease as t grows (m >= 0), and for m >= 2^30 it is at least
 * 16384 at t = 32767 and at most -16384 at t = -32768, so with |zp| <=
 * 16256 every t beyond int16 gives 127 (or -128) either way; for m = 0 it
 * is 0 for every t. |2 t m| < 2^47: nothing overflows.
 */
static inline void tf_requant_fold_offset(tf_requant *r, int32_t output_offset) {
    if (r->shift < 0) {
        if (r->high_shift > 20) return;
        const int64_t nudge = (int64_t)(((uint64_t)(uint32_t)r->nudge_hi << 32) | r->nudge_lo);
        const int64_t folded =
            nudge + (int64_t)((uint64_t)(int64_t)output_offset << (32 + r->high_shift));
        r->folded_lo = (uint32_t)folded;
        r->folded_hi = (int32_t)(folded >> 32);
        r->folded = 1;
    } else if (r->shift <= 31 && (r->multiplier == 0 || r->multiplier >= (1 << 30)) &&
               output_offset >= -TF_REQUANT_LEFT_MAX_OFFSET &&
               output_offset <= TF_REQUANT_LEFT_MAX_OFFSET) {
        const int64_t folded =
            ((int64_t)1 << 31) + (int64_t)((uint64_t)(int64_t)output_offset << 32);
        r->folded_lo = (uint32_t)folded;
        r->folded_hi = (int32_t)(folded >> 32);
        r->high_shift = (int32_t)(0x80000000u | (uint32_t)r->shift);
        r->folded = 1;
    }
}

/* Equals tf_requantize(x, r.multiplier, r.shift) for every x. */
static inline int32_t tf_requant_apply(const tf_requant *r, int32_t x) {
    if (r->shift < 0) {
        const int64_t nudge = (int64_t)(((uint64_t)(uint32_t)r->nudge_hi << 32) | r->nudge_lo);
        int64_t t = nudge + (int64_t)x * r->multiplier;
        if (x < 0) t -= (int64_t)1 << 31;
        return (int32_t)(t >> 32) >> r->high_shift;
    }
    return tf_requantize(x, r->multiplier, r->shift);
}

/*
 * tf_requant_apply(r, x) + zp, saturated to int32 (a left shift's result
 * can be near the int32 limits, where a plain addition would overflow; the
 * reference adds without bound, and any clamp to int8 after this gives the
 * same byte).
 */
static inline int32_t tf_requant_apply_offset(const tf_requant *r, int32_t x, int32_t zp) {
    const int64_t y = (int64_t)tf_requant_apply(r, x) + zp;
    return y > INT32_MAX ? INT32_MAX : y < INT32_MIN ? INT32_MIN : (int32_t)y;
}

/*
 * With r->folded set: tf_requant_apply(r, x) + the folded zero point,
 * saturated to int8, computed as the fused asm stores compute it
 * (TF_STORE_FULL_FOLDED for a right shift, TF_STORE_LEFT_FOLDED for a left
 * shift; see tf_requant_fold_offset). The C paths of fused layers use it,
 * so host builds run the target's arithmetic.
 */
static inline int8_t tf_requant_folded_s8(const tf_requant *r, int32_t x) {
    const int64_t k = (int64_t)(((uint64_t)(uint32_t)r->folded_hi << 32) | r->folded_lo);
    int32_t y;
    if (r->shift < 0) {
        int64_t t = k + (int64_t)x * r->multiplier;
        if (x < 0) t -= (int64_t)1 << 31;
        y = (int32_t)(t >> 32) >> r->high_shift;
    } else {
        int32_t t = (int32_t)((uint32_t)x << (r->high_shift & 31));
        t = TF_MIN(TF_MAX(t, -32768), 32767);
        y = (int32_t)((k + 2 * (int64_t)t * r->multiplier) >> 32);
    }
    return (int8_t)TF_MIN(TF_MAX(y, -128), 127);
}

/* gemmlowp SaturatingRoundingDoublingHighMul, saturating INT32_MIN * INT32_MIN. */
static inline int32_t tf_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    return tf_doubling_high_mult(a, b);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT(x, exponent). */
static inline int32_t tf_saturating_rounding_mul_by_pot(int32_t x, int32_t exponent) {
    if (exponent == 0) return x;
    if (exponent < 0) return tf_rounding_divide_by_pot(x, -exponent);
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

/* Requantize an accumulator and clamp it into [act_min, act_max] as int8. */
static inline int8_t tf_requantize_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                      int32_t output_offset, int32_t act_min, int32_t act_max) {
    int64_t y = (int64_t)tf_requantize(acc, multiplier, shift) + output_offset;
    y = TF_MAX(y, act_min);
    y = TF_MIN(y, act_max);
    return (int8_t)y;
}

#endif
