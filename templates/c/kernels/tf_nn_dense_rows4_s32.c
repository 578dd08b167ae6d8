/*
 * tf_nn_dense_rows4_s32: four packed input rows times dense int8 weight rows.
 *
 * Register blocking: 1 weight row x 4 input rows. Per group of 4 reduction
 * steps: one word load of 4 int8 weights, SXTB16 and SXTB16 ror 8 (no
 * reordering: the input rows were packed to match), two 4-word loads of
 * packed input (LDM on the target) and 8 SMLAD: 16 MACs in 13 instructions.
 * The four accumulators of a channel are stored together (one STM).
 */
#include "tf_nn_internal.h"
#include "tf_nn_support.h"

void tf_nn_dense_rows4_s32(const int32_t *buf, int32_t k, const int8_t *w, int32_t rows,
                           const int32_t *bias, const int32_t extra[4], int32_t *acc) {
    const int32_t groups = k >> 2;
    const int32_t tail = k & 3;
    const int32_t *const tail_buf = buf + 8 * groups;
    /* The main loop does four groups per iteration, up to quad_end. */
    const int32_t *const quad_end = buf + 32 * (groups >> 2);
    const int8_t *wr = w;
    for (int32_t o = 0; o < rows; o++, acc += 4) {
        const int32_t b = bias != 0 ? bias[o] : 0;
        int32_t a0 = b, a1 = b, a2 = b, a3 = b;
        if (extra != 0) {
            a0 = tf_add_wrap(a0, extra[0]);
            a1 = tf_add_wrap(a1, extra[1]);
            a2 = tf_add_wrap(a2, extra[2]);
            a3 = tf_add_wrap(a3, extra[3]);
        }
        const int32_t *x = buf;
        while (x != quad_end) {
            TF_NN_MAC_QUAD(x, wr, a0, a1, a2, a3);
            TF_NN_MAC_QUAD(x, wr, a0, a1, a2, a3);
            TF_NN_MAC_QUAD(x, wr, a0, a1, a2, a3);
            TF_NN_MAC_QUAD(x, wr, a0, a1, a2, a3);
        }
        for (int32_t g = groups & 3; g > 0; g--) TF_NN_MAC_QUAD(x, wr, a0, a1, a2, a3);
        for (int32_t t = 0; t < tail; t++) {
            const int32_t wv = *wr++;
            const int32_t x01 = tail_buf[2 * t], x23 = tail_buf[2 * t + 1];
            a0 = tf_nn_mla16(a0, wv, (int16_t)((uint32_t)x01 & 0xFFFFu));
            a1 = tf_nn_mla16(a1, wv, (int16_t)((uint32_t)x01 >> 16));
            a2 = tf_nn_mla16(a2, wv, (int16_t)((uint32_t)x23 & 0xFFFFu));
            a3 = tf_nn_mla16(a3, wv, (int16_t)((uint32_t)x23 >> 16));
        }
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
    }
}
