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
#include <string.h>

#include "tf_nn_internal.h"
#include "tf_nn_support.h"

static inline uint32_t tf_nn_read_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline uint32_t tf_nn_read_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/*
 * Walks the stored rows of the packed stream `s` (a local pointer) against the
 * packed input rows `buf`; one specialisation per (block size, run width):
 * QUADS = block size / 4 (0: block size 1), RUN_BYTES 1 or 2. Each stored
 * row starts with one word: rows skipped (low half) and its block count (high
 * half). Rows without a stored block get the bias (TF_FILL_BIAS); each
 * stored row's four accumulators, bias included, go to acc (TF_STORE_ACC).
 */
#define TF_SPARSE_ROWS(RUN_BYTES, QUADS)                                          \
    do {                                                                          \
        int32_t o = 0;                                                            \
        for (int32_t left = w->stored_rows; left > 0; left--, o++) {              \
            const uint32_t head = tf_nn_read_u32(s);                              \
            s += 4;                                                               \
            const int32_t skipped = (int32_t)(head & 0xFFFFu);                    \
            if (skipped != 0) {                                                   \
                TF_FILL_BIAS(o, skipped);                                         \
                o += skipped;                                                     \
            }                                                                     \
            const int32_t b = bias != 0 ? bias[o] : 0;                            \
            int32_t a0 = b, a1 = b, a2 = b, a3 = b;                               \
            const int32_t *x = buf;                                               \
            uint32_t n = head >> 16;                                              \
            do {                                                                  \
                const uint32_t run = (RUN_BYTES) == 1 ? s[0] : tf_nn_read_u16(s); \
                s += (RUN_BYTES);                                                 \
                if ((QUADS) == 0) {                                               \
                    x += 2u * run;                                                \
                    const int32_t wv = (int8_t)*s++;                              \
                    const int32_t x01 = x[0], x23 = x[1];                         \
                    x += 2;                                                       \
                    a0 = tf_nn_mla16(a0, wv, (int16_t)((uint32_t)x01 & 0xFFFFu)); \
                    a1 = tf_nn_mla16(a1, wv, (int16_t)((uint32_t)x01 >> 16));     \
                    a2 = tf_nn_mla16(a2, wv, (int16_t)((uint32_t)x23 & 0xFFFFu)); \
                    a3 = tf_nn_mla16(a3, wv, (int16_t)((uint32_t)x23 >> 16));     \
                } else {                                                          \
                    x += 8u * (QUADS)*run;                                        \
                    /* Unrolled: QUADS is a constant 1, 2 or 4. */                \
                    TF_NN_MAC_QUAD(x, s, a0, a1, a2, a3);                         \
                    if ((QUADS) >= 2) TF_NN_MAC_QUAD(x, s, a0, a1, a2, a3);       \
                    if ((QUADS) >= 4) {                                           \
                        TF_NN_MAC_QUAD(x, s, a0, a1, a2, a3);                     \
                        TF_NN_MAC_QUAD(x, s, a0, a1, a2, a3);                     \
                    }                                                             \
                }                                                                 \
            } while (--n > 0);                                                    \
            TF_STORE_ACC(o, a0, a1, a2, a3);                                      \
        }                                                                         \
        if (o < rows) TF_FILL_BIAS(o, rows - o);                                  \
    } while (0)

/* Dispatches TF_SPARSE_ROWS on the weight's block size and run width. */
#define TF_SPARSE_DISPATCH(w)                  \
    do {                                       \
        const int wide_ = (w)->run_bytes != 1; \
        switch ((w)->block_size) {             \
            case 16:                           \
                if (wide_)                     \
                    TF_SPARSE_ROWS(2, 4);      \
                else                           \
                    TF_SPARSE_ROWS(1, 4);      \
                break;                         \
            case 8:                            \
                if (wide_)                     \
                    TF_SPARSE_ROWS(2, 2);      \
                else                           \
                    TF_SPARSE_ROWS(1, 2);      \
                break;                         \
            case 4:                            \
                if (wide_)                     \
                    TF_SPARSE_ROWS(2, 1);      \
                else                           \
                    TF_SPARSE_ROWS(1, 1);      \
                break;                         \
            default:                           \
                if (wide_)                     \
                    TF_SPARSE_ROWS(2, 0);      \
                else                           \
                    TF_SPARSE_ROWS(1, 0);      \
                break;                         \
        }                                      \
    } while (0)

/* Stores a channel's four accumulators into acc[4 * o ..]. */
#define TF_STORE_ACC(o, a0, a1, a2, a3) \
    do {                                \
        acc[4 * (o)] = a0;              \
        acc[4 * (o) + 1] = a1;          \
        acc[4 * (o) + 2] = a2;          \
        acc[4 * (o) + 3] = a3;          \
    } while (0)

/* Rows without a stored block: their accumulators are the bias alone. */
#define TF_FILL_BIAS(o, n)                               \
    do {                                                 \
        for (int32_t e_ = (o); e_ < (o) + (n); e_++) {   \
            const int32_t b_ = bias != 0 ? bias[e_] : 0; \
            acc[4 * e_] = acc[4 * e_ + 1] = b_;          \
            acc[4 * e_ + 2] = acc[4 * e_ + 3] = b_;      \
        }                                                \
    } while (0)

void tf_nn_sparse_rows4_s32(const int32_t *buf, int32_t k, const tf_sparse_weights *w, int32_t rows,
                            const int32_t *bias, int32_t *acc) {
    (void)k;
    const uint8_t *s = w->stream;
    TF_SPARSE_DISPATCH(w);
}
