/* tf_conv_1x1_sparse_s8: 1x1 convolution, block-RLE weights (see tf_nn.h). */
#include "tf_nn.h"
#include "tf_nn_conv_rows.h"
#include "tf_nn_support.h"

tf_status tf_conv_1x1_sparse_s8(const tf_context *ctx, const tf_conv_params *params,
                                const tf_per_channel_quant *quant, const tf_dims *input_dims,
                                const int8_t *input, const tf_dims *filter_dims,
                                const tf_sparse_weights *filter, const int32_t *bias,
                                const tf_dims *output_dims, int8_t *output) {
    tf_nn_conv_geometry g;
    const tf_status status =
        tf_nn_conv_geometry_init(params, input_dims, input, filter_dims, output_dims, &g);
    if (status != TF_STATUS_OK) return status;
    if (g.kh != 1 || g.kw != 1 || g.pad_top != 0 || g.pad_left != 0 || filter == 0 || quant == 0 ||
        output == 0 || g.out_h != (g.in_h - 1) / g.stride_h + 1 ||
        g.out_w != (g.in_w - 1) / g.stride_w + 1) {
        return TF_STATUS_ARG_ERROR;
    }
    const tf_nn_output_stage stage = tf_nn_per_channel_stage(bias, quant, params->output_offset,
                                                             params->act_min, params->act_max);
    return tf_nn_conv_rows_s8(ctx, &g, 0, filter, &stage, output);
}

int32_t tf_conv_1x1_sparse_s8_get_buffer_size(const tf_dims *input_dims,
                                              const tf_dims *filter_dims) {
    return tf_nn_rows_buffer_size(input_dims->c, filter_dims->n, 0);
}
