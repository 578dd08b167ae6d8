/* tf_linear_s8: linear (fully connected), dense weights (see tf_nn.h). */
#include "tf_nn.h"
#include "tf_nn_conv_rows.h"
#include "tf_nn_support.h"

tf_status tf_linear_s8(const tf_context *ctx, const tf_linear_params *params,
                       const tf_per_channel_quant *quant, int32_t rows, int32_t in_features,
                       int32_t out_features, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output) {
    if (params == 0 || quant == 0 || input == 0 || filter == 0 || output == 0 || rows < 0 ||
        in_features < 1 || out_features < 1 || params->act_min > params->act_max) {
        return TF_STATUS_ARG_ERROR;
    }
    const tf_nn_conv_geometry g =
        tf_nn_linear_geometry(input, rows, in_features, out_features, params->input_offset);
    const tf_nn_output_stage stage = tf_nn_per_channel_stage(bias, quant, params->output_offset,
                                                             params->act_min, params->act_max);
    return tf_nn_conv_rows_s8(ctx, &g, filter, 0, &stage, output);
}

int32_t tf_linear_s8_get_buffer_size(int32_t in_features, int32_t out_features) {
    return tf_nn_rows_buffer_size(in_features, out_features, 0);
}
