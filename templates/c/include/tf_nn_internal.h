/*
 * Building blocks shared by the public kernels (not a stable API).
 *
 * The matrix kernels (conv 1x1, conv kxk, linear, batch matmul) all reduce to
 * "four input rows of K values times O weight rows": rows are output pixels
 * (conv) or tokens (linear). The four input rows are first converted once to
 * int16 with the input offset added (tf_nn_pack_rows4_s16), in one of two
 * layouts, then every weight row is applied to all four, so each weight is
 * loaded and sign-extended once per four MACs.
 *
 * TF_NN_LAYOUT_QUAD (dense kernels, sparse blocks of 4, 8, 16): for each group
 * of 4 values k..k+3, eight words, two per row r = 0..3:
 *     [r(k), r(k+2)] [r(k+1), r(k+3)]
 * (int16 pairs, low half first), which is exactly what SXTB16 and SXTB16 ror 8
 * produce from 4 int8 weights, so weight words need no reordering; then, for
 * the K % 4 last values, two words [R0(k), R1(k)] [R2(k), R3(k)] each.
 * TF_NN_LAYOUT_PAIR (sparse blocks of 1): two words [R0(k), R1(k)] [R2(k), R3(k)] per k.
 * Both layouts take 8 * K bytes.
 *
 * Fewer than four rows: repeat the last row; the caller requantizes the
 * last group into a scratch block and copies the valid rows out.
 */
#ifndef TF_NN_INTERNAL_H
#define TF_NN_INTERNAL_H

#include <string.h>

#include "tf_nn_support.h"
#include "tf_nn_types.h"

typedef enum { TF_NN_LAYOUT_QUAD = 0, TF_NN_LAYOUT_PAIR = 1 } tf_nn_row_layout;

/* Requantization of one output row (bias, multiplier, zero point, clamp). */
typedef struct {
    const int32_t *bias;       /* [O] or NULL */
    const int32_t *multiplier; /* [O] when per_channel, else [1] */
    const int32_t *shift;      /* same length as multiplier */
    int32_t per_channel;       /* 1: per output channel, 0: one for all */
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
    /*
     * Optional: the multipliers already prepared with tf_requant_prepare
     * (same indexing as multiplier), so the per-output work is minimal.
     */
    const tf_requant *prepared;
    /*
     * 1 when every prepared channel has its zero point folded (any shift:
     * tf_requant_fold_offset) and the clamp is the whole int8 range: kernels
     * may then requantize with TF_STORE_FULL_FOLDED (right shift) or
     * TF_STORE_LEFT_FOLDED (left shift, high_shift < 0) right after
     * accumulating. 2 instead of 1 when some channel shifts left (set by
     * tf_nn_conv_rows_s8; the sparse walk then tests each row's kind).
     */
    int32_t fused;
    /*
     * Sparse weights: 1 when the caller has already written the output of
     * every channel whose row has no stored block (its requantized bias) into
     * the output rows, so the fused walk leaves such channels alone.
     */
    int32_t empty_prefilled;
} tf_nn_output_stage;

/*
 * Converts four int8 rows of k values to the int16 layout, adding `offset` to
 * every value. buf: 8 * k bytes, 4-byte aligned.
 */
void tf_nn_pack_rows4_s16(const int8_t *const rows[4], int32_t k, int32_t offset,
                          tf_nn_row_layout layout, int32_t *buf);

/*
 * acc[4 * o + r] for o in [0, rows): dot products of packed row r
 * (TF_NN_LAYOUT_QUAD) with the dense int8 weight row w[o * k .. o * k + k),
 * plus bias[o] (bias may be NULL) and extra[r] (a per-input-row term; extra
 * NULL for none, as in conv and linear). Accumulators first, requantization in a separate pass
 * (tf_nn_requant_rows4_s8), so each loop keeps its state in registers.
 */
void tf_nn_dense_rows4_s32(const int32_t *buf, int32_t k, const int8_t *w, int32_t rows,
                           const int32_t *bias, const int32_t extra[4], int32_t *acc);

/*
 * The same for a block-RLE weight of `rows` rows of k weights; buf must be in
 * TF_NN_LAYOUT_PAIR for block size 1 and TF_NN_LAYOUT_QUAD otherwise.
 * Pruned blocks are never read or multiplied.
 */
void tf_nn_sparse_rows4_s32(const int32_t *buf, int32_t k, const tf_sparse_weights *w, int32_t rows,
                            const int32_t *bias, int32_t *acc);

/*
 * out[i] = requantized acc[i] with channel i's prepared multiplier, for i in
 * [0, n) (bias already in acc). stage->prepared must be set; stage->fused
 * selects the fast path as for tf_nn_sparse_rows4_s8.
 */
void tf_nn_requant_channels_s8(const int32_t *acc, int32_t n, const tf_nn_output_stage *stage,
                               int8_t *out);

/*
 * The sparse product and its requantization: out[r * stride + o]. When
 * stage->fused is set (and on the target) each channel's four outputs are
 * requantized right after its blocks, without going through acc; otherwise
 * tf_nn_sparse_rows4_s32 then tf_nn_requant_rows4_s8.
 */
void tf_nn_sparse_rows4_s8(const int32_t *buf, int32_t k, const tf_sparse_weights *w, int32_t rows,
                           const tf_nn_output_stage *stage, int32_t *acc, int8_t *out,
                           int32_t stride);

/*
 * out[r * stride + o] = requantized acc[4 * o + r] (bias already in acc) for
 * o in [0, rows), r in [0, 4). stage->prepared must be set.
 */
void tf_nn_requant_rows4_s8(const int32_t *acc, int32_t rows, const tf_nn_output_stage *stage,
                            int8_t *out, int32_t stride);

/* The output stage of conv and linear: per-channel multipliers, nothing prepared. */
static inline tf_nn_output_stage tf_nn_per_channel_stage(const int32_t *bias,
                                                         const tf_per_channel_quant *quant,
                                                         int32_t output_offset, int32_t act_min,
                                                         int32_t act_max) {
    tf_nn_output_stage stage;
    memset(&stage, 0, sizeof stage);
    stage.bias = bias;
    stage.multiplier = quant->multiplier;
    stage.shift = quant->shift;
    stage.per_channel = 1;
    stage.output_offset = output_offset;
    stage.act_min = act_min;
    stage.act_max = act_max;
    return stage;
}

/* The requantization of output channel o. */
static inline tf_requant tf_nn_channel(const tf_nn_output_stage *stage, int32_t o) {
    const int32_t q = stage->per_channel ? o : 0;
    if (stage->prepared != 0) return stage->prepared[q];
    return tf_requant_prepare(stage->multiplier[q], stage->shift[q]);
}

/* Channel o's bias, or 0: the initial value of its accumulators. */
static inline int32_t tf_nn_bias(const tf_nn_output_stage *stage, int32_t o) {
    return stage->bias != 0 ? stage->bias[o] : 0;
}

/* Requantizes an accumulator (bias included) with rq, adds the zero point, clamps. */
static inline int8_t tf_nn_finish(int32_t acc, const tf_requant *rq,
                                  const tf_nn_output_stage *stage) {
    int32_t y = tf_requant_apply_offset(rq, acc, stage->output_offset);
    y = TF_MAX(y, stage->act_min);
    y = TF_MIN(y, stage->act_max);
    return (int8_t)y;
}

/* Requantizes the accumulator of output channel o (bias not yet added). */
static inline int8_t tf_nn_output(int32_t acc, int32_t o, const tf_nn_output_stage *stage) {
    const tf_requant rq = tf_nn_channel(stage, o);
    return tf_nn_finish(tf_add_wrap(acc, tf_nn_bias(stage, o)), &rq, stage);
}

/*
 * The asm fast paths need an optimizing build: at -O0 gcc keeps the frame
 * pointer and spills every operand, and the requantization blocks (up to 13
 * register operands) cannot be allocated. Unoptimized builds take the C paths.
 */
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7 && defined(__thumb2__) && TF_USE_DSP && \
    defined(__OPTIMIZE__)
/*
 * The high word of the requantized x (right shift) in %[hi]: LDRD of the
 * 64-bit nudge at [q + off], SMLAL x * m, LSR + SMLAL adding INT32_MIN when
 * x < 0 (the sign correction of tf_requant_apply), ASR. Operands: lo, hi, neg
 * (outputs), q, off, xv, m, min, hs.
 */
#define TF_ASM_REQUANT_HIGH                  \
    "ldrd %[lo], %[hi], [%[q], %[off]]\n\t"  \
    "smlal %[lo], %[hi], %[xv], %[m]\n\t"    \
    "lsr %[neg], %[xv], #31\n\t"             \
    "smlal %[lo], %[hi], %[neg], %[min]\n\t" \
    "asr %[hi], %[hi], %[hs]\n\t"

/*
 * Requantizes x with the prepared channel q (right shift, zero point folded:
 * tf_requant_fold_offset), saturates to int8 and stores it at p[offset]:
 * LDRD of the folded nudge, SMLAL x * m, LSR + SMLAL adding INT32_MIN when
 * x < 0, ASR, SSAT, STRB. m = q->multiplier, hs = q->high_shift and
 * int32_min = INT32_MIN must be in scope. One asm block, so the compiler can
 * neither speculate another path nor split the address computation.
 */
#define TF_STORE_FULL_FOLDED(x, p, offset)                                                   \
    do {                                                                                     \
        uint32_t lo_;                                                                        \
        int32_t hi_;                                                                         \
        uint32_t neg_;                                                                       \
        __asm volatile(                                                                      \
            TF_ASM_REQUANT_HIGH                                                              \
            "ssat %[hi], #8, %[hi]\n\t"                                                      \
            "strb %[hi], [%[pp], %[po]]"                                                     \
            : [lo] "=&r"(lo_), [hi] "=&r"(hi_), [neg] "=&r"(neg_)                            \
            : [q] "r"(q), [off] "i"(__builtin_offsetof(tf_requant, folded_lo)), [xv] "r"(x), \
              [m] "r"(m), [min] "r"(int32_min), [hs] "r"(hs), [pp] "r"(p), [po] "r"(offset)  \
            : "memory");                                                                     \
        (void)lo_;                                                                           \
    } while (0)

/*
 * TF_STORE_FULL_FOLDED for a channel with a left shift s (prepared by
 * tf_requant_fold_offset: hs = INT32_MIN | s, the folded constant 2^31 +
 * zp * 2^32): LSL by s (wrapping, as the reference does), SSAT to int16,
 * LDRD of the constant, SMLAL of t * m twice (the doubling of the high
 * multiply), SSAT to int8, STRB: 7 instructions too, the same value as
 * tf_requant_folded_s8.
 */
#define TF_ASM_REQUANT_LEFT                 \
    "lsl %[t], %[xv], %[hs]\n\t"            \
    "ssat %[t], #16, %[t]\n\t"              \
    "ldrd %[lo], %[hi], [%[q], %[off]]\n\t" \
    "smlal %[lo], %[hi], %[t], %[m]\n\t"    \
    "smlal %[lo], %[hi], %[t], %[m]\n\t"

#define TF_STORE_LEFT_FOLDED(x, p, offset)                                                    \
    do {                                                                                      \
        uint32_t lo_;                                                                         \
        int32_t hi_;                                                                          \
        int32_t t_;                                                                           \
        __asm volatile(TF_ASM_REQUANT_LEFT                                                    \
                       "ssat %[hi], #8, %[hi]\n\t"                                            \
                       "strb %[hi], [%[pp], %[po]]"                                           \
                       : [lo] "=&r"(lo_), [hi] "=&r"(hi_), [t] "=&r"(t_)                      \
                       : [q] "r"(q), [off] "i"(__builtin_offsetof(tf_requant, folded_lo)),    \
                         [xv] "r"(x), [m] "r"(m), [hs] "r"(hs), [pp] "r"(p), [po] "r"(offset) \
                       : "memory");                                                           \
        (void)lo_;                                                                            \
    } while (0)

/* Either store, by the sign of hs (a branch: for layers that have both kinds). */
#define TF_STORE_FOLDED(x, p, offset)           \
    do {                                        \
        if (hs >= 0) {                          \
            TF_STORE_FULL_FOLDED(x, p, offset); \
        } else {                                \
            TF_STORE_LEFT_FOLDED(x, p, offset); \
        }                                       \
    } while (0)

#define TF_HAVE_FUSED_STORE 1
#else
#define TF_HAVE_FUSED_STORE 0
#endif

/*
 * Four int8 weights at wp (advanced by 4) times four packed rows at x
 * (TF_NN_LAYOUT_QUAD, advanced by 8 words) into the accumulators a0..a3: one
 * word load, SXTB16 x2, two LDM, eight SMLAD.
 */
#define TF_NN_MAC_QUAD(x, wp, a0, a1, a2, a3)                    \
    do {                                                         \
        int32_t x0_, x1_, x2_, x3_;                              \
        const int32_t raw_ = tf_read_s8x4((const int8_t *)(wp)); \
        const int32_t w02_ = tf_sxtb16(raw_);                    \
        const int32_t w13_ = tf_sxtb16_ror8(raw_);               \
        (wp) += 4;                                               \
        TF_LOAD4(x, x0_, x1_, x2_, x3_);                         \
        a0 = tf_smlad(w02_, x0_, a0);                            \
        a0 = tf_smlad(w13_, x1_, a0);                            \
        a1 = tf_smlad(w02_, x2_, a1);                            \
        a1 = tf_smlad(w13_, x3_, a1);                            \
        TF_LOAD4(x, x0_, x1_, x2_, x3_);                         \
        a2 = tf_smlad(w02_, x0_, a2);                            \
        a2 = tf_smlad(w13_, x1_, a2);                            \
        a3 = tf_smlad(w02_, x2_, a3);                            \
        a3 = tf_smlad(w13_, x3_, a3);                            \
    } while (0)

/* acc + w * half16, wrapping like SMLABB. */
static inline int32_t tf_nn_mla16(int32_t acc, int32_t w, int32_t half16) {
    return (int32_t)((uint32_t)acc + (uint32_t)(w * half16));
}

/* The layout a weight's kernel expects. */
static inline tf_nn_row_layout tf_nn_sparse_layout(const tf_sparse_weights *w) {
    return w->block_size == 1 ? TF_NN_LAYOUT_PAIR : TF_NN_LAYOUT_QUAD;
}

#endif
