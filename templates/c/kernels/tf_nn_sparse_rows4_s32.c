/*
 * tf_nn_sparse_rows4_s32: four packed input rows times a block-RLE weight
 * (the packed stream of tf_sparse_weights).
 *
 * Rows without a stored block get the bias alone. For each stored row the
 * kernel reads the row's header (rows skipped, block count), then per stored
 * block its run, which moves the input pointer past the pruned blocks (never
 * read, never multiplied), and the block's weights, applied to the four input
 * rows. Blocks of 4, 8 and 16 use the quad layout (per 4 weights: one word
 * load, SXTB16 x2, two 4-word input loads, 8 SMLAD); blocks of 1 use the pair
 * layout (one weight times [R0(k), R1(k)] [R2(k), R3(k)]). One stream pointer
 * walks counts, runs and weights, which keeps the loop state in registers.
 */
#include "tf_nn_internal.h"
#include "tf_nn_sparse_walk.h"
#include "tf_nn_support.h"

/* Stores a channel's four accumulators into acc[4 * o ..]. */
#define TF_STORE_ACC(o, a0, a1, a2, a3) \
    do {                                \
        acc[4 * (o)] = a0;              \
        acc[4 * (o) + 1] = a1;          \
        acc[4 * (o) + 2] = a2;          \
        acc[4 * (o) + 3] = a3;          \
    } while (0)

/* Rows without a stored block: their accumulators are the bias alone. */
#define TF_FILL_BIAS(o, n)                                    \
    do {                                                      \
        for (int32_t e_ = (o); e_ < (o) + (n); e_++) {        \
            const int32_t b_ = bias != 0 ? bias[e_] : 0;      \
            acc[4 * e_] = acc[4 * e_ + 1] = b_;               \
            acc[4 * e_ + 2] = acc[4 * e_ + 3] = b_;           \
        }                                                     \
    } while (0)

void tf_nn_sparse_rows4_s32(const int32_t *buf, int32_t k, const tf_sparse_weights *w,
                            int32_t rows, const int32_t *bias, int32_t *acc) {
    (void)k;
    const uint8_t *s = w->stream;
    TF_SPARSE_DISPATCH(w, TF_FILL_BIAS, TF_STORE_ACC);
}
