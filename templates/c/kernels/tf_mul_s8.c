/* tf_mul_s8: element-wise int8 multiplication, TFLite semantics (see tf_nn.h). */
#include "tf_nn.h"
#include "tf_nn_support.h"

tf_status tf_mul_s8(const tf_mul_params *params, int32_t size, const int8_t *input1,
                    const int8_t *input2, int8_t *output) {
    if (params == 0 || input1 == 0 || input2 == 0 || output == 0 || size < 0 ||
        params->act_min > params->act_max) {
        return TF_STATUS_ARG_ERROR;
    }
    const tf_requant q = tf_requant_prepare(params->multiplier, params->shift);
    for (int32_t i = 0; i < size; i++) {
        /* |product| <= 256 * 256: no overflow before the requantization. */
        const int32_t product =
            (input1[i] + params->input1_offset) * (input2[i] + params->input2_offset);
        int32_t y = tf_requant_apply(&q, product) + params->output_offset;
        y = TF_MAX(y, params->act_min);
        y = TF_MIN(y, params->act_max);
        output[i] = (int8_t)y;
    }
    return TF_STATUS_OK;
}
