/* tf_global_avg_pool_s8: [N, H, W, C] -> [N, C] mean, requantized (see tf_nn.h). */
#include "tf_nn.h"
#include "tf_nn_support.h"

tf_status tf_global_avg_pool_s8(int32_t input_offset, int32_t output_offset, int32_t multiplier,
                                int32_t shift, const tf_dims *input_dims, const int8_t *input,
                                int8_t *output) {
    if (input_dims == 0 || input == 0 || output == 0) return TF_STATUS_ARG_ERROR;
    const int32_t hw = input_dims->h * input_dims->w, c = input_dims->c;
    const tf_requant q = tf_requant_prepare(multiplier, shift);
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *x = input + b * hw * c;
        for (int32_t ch = 0; ch < c; ch++) {
            int32_t sum = 0;
            for (int32_t p = 0; p < hw; p++) sum = tf_add_wrap(sum, x[p * c + ch] + input_offset);
            const int32_t y = tf_requant_apply(&q, sum) + output_offset;
            output[b * c + ch] = (int8_t)TF_MIN(TF_MAX(y, -128), 127);
        }
    }
    return TF_STATUS_OK;
}
