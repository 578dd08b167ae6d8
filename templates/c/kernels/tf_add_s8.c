/* tf_add_s8: element-wise int8 addition, TFLite semantics (see tf_nn.h). */
#include "tf_nn.h"
#include "tf_nn_support.h"

tf_status tf_add_s8(const tf_add_params *params, int32_t size, const int8_t *input1,
                    const int8_t *input2, int8_t *output) {
    if (params == 0 || input1 == 0 || input2 == 0 || output == 0 || size < 0 ||
        params->left_shift < 0 || params->left_shift > 22 || params->act_min > params->act_max) {
        return TF_STATUS_ARG_ERROR;
    }
    const tf_requant q1 = tf_requant_prepare(params->input1_multiplier, params->input1_shift);
    const tf_requant q2 = tf_requant_prepare(params->input2_multiplier, params->input2_shift);
    const tf_requant qo = tf_requant_prepare(params->output_multiplier, params->output_shift);
    const int32_t ls = params->left_shift;
    for (int32_t i = 0; i < size; i++) {
        const int32_t a = (int32_t)((uint32_t)(input1[i] + params->input1_offset) << ls);
        const int32_t b = (int32_t)((uint32_t)(input2[i] + params->input2_offset) << ls);
        const int32_t sum = tf_add_wrap(tf_requant_apply(&q1, a), tf_requant_apply(&q2, b));
        int32_t y = tf_requant_apply(&qo, sum) + params->output_offset;
        y = TF_MAX(y, params->act_min);
        y = TF_MIN(y, params->act_max);
        output[i] = (int8_t)y;
    }
    return TF_STATUS_OK;
}
