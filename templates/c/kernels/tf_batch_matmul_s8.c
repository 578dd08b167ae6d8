/*
 * tf_batch_matmul_s8: out = a . b (or a . b^T), both operands int8
 * activations with zero points (see tf_nn.h).
 *
 * Rows of a play the role of input rows, rows of b^T the role of weight rows
 * of tf_nn_dense_rows4_s32. The offset of b is applied algebraically:
 *     sum_k (a + a_off)(b + b_off) = sum_k (a + a_off) b + b_off * sum_k (a + a_off)
 * (exact in wrapping int32 arithmetic), so b is used as raw int8. When b is
 * not transposed, each batch's b is transposed into the scratch first.
 */
#include <string.h>

#include "tf_nn.h"
#include "tf_nn_internal.h"

int32_t tf_batch_matmul_s8_get_buffer_size(int32_t k, int32_t n, int32_t transpose_b) {
    return 8 * k + 20 * n + (transpose_b ? 0 : ((n * k + 3) & ~3));
}

tf_status tf_batch_matmul_s8(const tf_context *ctx, const tf_matmul_params *params, int32_t batch,
                             int32_t m, int32_t k, int32_t n, const int8_t *a, const int8_t *b,
                             int8_t *out) {
    if (params == 0 || a == 0 || b == 0 || out == 0 || batch < 0 || m < 0 || k < 1 || n < 1) {
        return TF_STATUS_ARG_ERROR;
    }
    if (ctx == 0 || ctx->buf == 0 ||
        ctx->size < tf_batch_matmul_s8_get_buffer_size(k, n, params->transpose_b)) {
        return TF_STATUS_SCRATCH_ERROR;
    }
    int32_t *packed = (int32_t *)ctx->buf;
    int32_t *acc = packed + 2 * k;
    int8_t *tail_out = (int8_t *)(acc + 4 * n); /* [4][n] for a last partial group */
    int8_t *bt = tail_out + 4 * n;
    tf_requant prepared = tf_requant_prepare(params->multiplier, params->shift);
    tf_requant_fold_offset(&prepared, params->output_offset);
    /* One multiplier for the whole output, prepared once. */
    tf_nn_output_stage stage;
    memset(&stage, 0, sizeof stage);
    stage.multiplier = &params->multiplier;
    stage.shift = &params->shift;
    stage.output_offset = params->output_offset;
    stage.act_min = -128;
    stage.act_max = 127;
    stage.prepared = &prepared;
    for (int32_t p = 0; p < batch; p++) {
        const int8_t *ap = a + p * m * k;
        const int8_t *bp = b + p * k * n;
        if (!params->transpose_b) {
            for (int32_t j = 0; j < n; j++) {
                for (int32_t kk = 0; kk < k; kk++) bt[j * k + kk] = bp[kk * n + j];
            }
            bp = bt;
        }
        int8_t *op = out + p * m * n;
        for (int32_t i = 0; i < m; i += 4) {
            const int32_t count = m - i < 4 ? m - i : 4;
            const int8_t *rows[4];
            int32_t extra[4];
            for (int32_t r = 0; r < 4; r++) {
                /* Past the last row, repeat it. */
                rows[r] = ap + (r < count ? i + r : m - 1) * k;
                int32_t sum = 0;
                for (int32_t kk = 0; kk < k; kk++) sum += rows[r][kk] + params->a_offset;
                extra[r] = (int32_t)((uint32_t)sum * (uint32_t)params->b_offset);
            }
            tf_nn_pack_rows4_s16(rows, k, params->a_offset, TF_NN_LAYOUT_QUAD, packed);
            tf_nn_dense_rows4_s32(packed, k, bp, n, 0, extra, acc);
            if (count == 4) {
                tf_nn_requant_rows4_s8(acc, n, &stage, op + i * n, n);
            } else {
                tf_nn_requant_rows4_s8(acc, n, &stage, tail_out, n);
                memcpy(op + i * n, tail_out, (size_t)(count * n));
            }
        }
    }
    return TF_STATUS_OK;
}
