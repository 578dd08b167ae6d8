/*
 * tf_nn_sparse_rows4_s8: the sparse product of tf_nn_sparse_rows4_s32 with
 * the requantization fused in. On the target, when the stage allows it
 * (stage->fused: right shifts, folded zero points, whole int8 range), each
 * channel's four accumulators are requantized and stored as soon as its
 * blocks are walked (TF_STORE_FULL_FOLDED), which saves storing and
 * reloading them and a second loop over the channels; channels whose row
 * has no stored block get stage->empty_out. Otherwise it falls
 * back to tf_nn_sparse_rows4_s32 and tf_nn_requant_rows4_s8.
 */
#include "tf_nn_internal.h"
#include "tf_nn_sparse_walk.h"
#include "tf_nn_support.h"

#if TF_HAVE_FUSED_STORE
/* Requantizes and stores a channel's four outputs (see TF_STORE_FULL_FOLDED). */
#define TF_STORE_OUT(o, a0, a1, a2, a3)                             \
    do {                                                            \
        const tf_requant *q = prepared + (o) * step;                \
        const int32_t m = q->multiplier, hs = q->high_shift;        \
        int8_t *p01_ = out + (o);                                   \
        int8_t *p23_ = p01_ + 2 * stride;                           \
        TF_STORE_FULL_FOLDED(a0, p01_, zero);                       \
        TF_STORE_FULL_FOLDED(a1, p01_, stride);                     \
        TF_STORE_FULL_FOLDED(a2, p23_, zero);                       \
        TF_STORE_FULL_FOLDED(a3, p23_, stride);                     \
    } while (0)
/*
 * Channels without a stored block output their requantized bias, unless the
 * caller has already written it into the four output rows.
 */
#define TF_STORE_EMPTY(o, n)                                      \
    do {                                                          \
        if (!prefilled) {                                         \
            for (int32_t e_ = (o); e_ < (o) + (n); e_++) {        \
                const int8_t v_ = empty[e_];                      \
                out[e_] = v_;                                     \
                out[e_ + stride] = v_;                            \
                out[e_ + 2 * stride] = v_;                        \
                out[e_ + 3 * stride] = v_;                        \
            }                                                     \
        }                                                         \
    } while (0)
#endif

void tf_nn_sparse_rows4_s8(const int32_t *buf, int32_t k, const tf_sparse_weights *w,
                           int32_t rows, const tf_nn_output_stage *stage, int32_t *acc,
                           int8_t *out, int32_t stride) {
#if TF_HAVE_FUSED_STORE
    if (stage->fused) {
        const uint8_t *s = w->stream;
        const int32_t *bias = stage->bias;
        const tf_requant *prepared = stage->prepared;
        const int32_t step = stage->per_channel ? 1 : 0;
        const int32_t int32_min = INT32_MIN;
        const int32_t zero = 0;
        const int8_t *empty = stage->empty_out;
        const int32_t prefilled = stage->empty_prefilled;
        (void)k;
        TF_SPARSE_DISPATCH(w, TF_STORE_EMPTY, TF_STORE_OUT);
        return;
    }
#endif
    tf_nn_sparse_rows4_s32(buf, k, w, rows, stage->bias, acc);
    tf_nn_requant_rows4_s8(acc, rows, stage, out, stride);
}
