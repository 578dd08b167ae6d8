/*
 * tf_mul_broadcast_s8: element-wise int8 mul with NumPy broadcasting (see
 * tf_nn.h). Walks the output in order with an odometer, adding each input's
 * stride per dimension (0 along a broadcast dimension).
 */
#include "tf_nn.h"
#include "tf_nn_support.h"

tf_status tf_mul_broadcast_s8(const tf_mul_params *params, int32_t rank,
                              const int32_t *output_shape, const int32_t *input1_strides,
                              const int32_t *input2_strides, const int8_t *input1,
                              const int8_t *input2, int8_t *output) {
    if (params == 0 || rank < 1 || rank > TF_BROADCAST_MAX_RANK || output_shape == 0 ||
        input1_strides == 0 || input2_strides == 0 || input1 == 0 || input2 == 0 || output == 0 ||
        params->act_min > params->act_max) {
        return TF_STATUS_ARG_ERROR;
    }
    int32_t index[TF_BROADCAST_MAX_RANK];
    int32_t total = 1;
    for (int32_t d = 0; d < rank; d++) {
        if (output_shape[d] < 0) return TF_STATUS_ARG_ERROR;
        index[d] = 0;
        total *= output_shape[d];
    }
    const tf_requant q = tf_requant_prepare(params->multiplier, params->shift);
    int32_t at1 = 0;
    int32_t at2 = 0;
    for (int32_t i = 0; i < total; i++) {
        const int32_t product =
            (input1[at1] + params->input1_offset) * (input2[at2] + params->input2_offset);
        int32_t y = tf_requant_apply(&q, product) + params->output_offset;
        y = TF_MAX(y, params->act_min);
        y = TF_MIN(y, params->act_max);
        output[i] = (int8_t)y;
        for (int32_t d = rank - 1; d >= 0; d--) {
            at1 += input1_strides[d];
            at2 += input2_strides[d];
            if (++index[d] < output_shape[d]) break;
            at1 -= input1_strides[d] * output_shape[d];
            at2 -= input2_strides[d] * output_shape[d];
            index[d] = 0;
        }
    }
    return TF_STATUS_OK;
}
