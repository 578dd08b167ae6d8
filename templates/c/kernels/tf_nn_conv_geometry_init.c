/* tf_nn_conv_geometry_init: validates public conv arguments into a geometry. */
#include "tf_nn_conv_rows.h"

tf_status tf_nn_conv_geometry_init(const tf_conv_params *params, const tf_dims *input_dims,
                                   const int8_t *input, const tf_dims *filter_dims,
                                   const tf_dims *output_dims, tf_nn_conv_geometry *g) {
    if (params == 0 || input_dims == 0 || input == 0 || filter_dims == 0 || output_dims == 0) {
        return TF_STATUS_ARG_ERROR;
    }
    if (params->stride_h < 1 || params->stride_w < 1 || params->dilation_h < 1 ||
        params->dilation_w < 1 || params->pad_top < 0 || params->pad_left < 0 ||
        filter_dims->w < 1 || filter_dims->h < 1 || filter_dims->c != input_dims->c ||
        output_dims->c != filter_dims->n || output_dims->n != input_dims->n ||
        params->act_min > params->act_max) {
        return TF_STATUS_ARG_ERROR;
    }
    g->input = input;
    g->batches = input_dims->n;
    g->in_h = input_dims->h;
    g->in_w = input_dims->w;
    g->in_c = input_dims->c;
    g->out_h = output_dims->h;
    g->out_w = output_dims->w;
    g->out_c = output_dims->c;
    g->kh = filter_dims->h;
    g->kw = filter_dims->w;
    g->stride_h = params->stride_h;
    g->stride_w = params->stride_w;
    g->pad_top = params->pad_top;
    g->pad_left = params->pad_left;
    g->dilation_h = params->dilation_h;
    g->dilation_w = params->dilation_w;
    g->input_offset = params->input_offset;
    return TF_STATUS_OK;
}
