/* Shared driver of conv 1x1, conv KxK and linear (not a stable API). */
#ifndef TF_NN_CONV_ROWS_H
#define TF_NN_CONV_ROWS_H

#include "tf_nn_internal.h"
#include "tf_nn_types.h"

/* A convolution's geometry; linear is a 1x1 convolution over [rows, 1, 1, I]. */
typedef struct {
    const int8_t *input;
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kh, kw;
    int32_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
    int32_t input_offset;
} tf_nn_conv_geometry;

/* Linear as a 1x1 convolution: `rows` pixels of in_features channels. */
static inline tf_nn_conv_geometry tf_nn_linear_geometry(const int8_t *input, int32_t rows,
                                                        int32_t in_features, int32_t out_features,
                                                        int32_t input_offset) {
    tf_nn_conv_geometry g;
    g.input = input;
    g.batches = rows;
    g.in_h = g.in_w = 1;
    g.in_c = in_features;
    g.out_h = g.out_w = 1;
    g.out_c = out_features;
    g.kh = g.kw = 1;
    g.stride_h = g.stride_w = 1;
    g.pad_top = g.pad_left = 0;
    g.dilation_h = g.dilation_w = 1;
    g.input_offset = input_offset;
    return g;
}

/*
 * Scratch bytes of the matrix kernels for reduction length k and o output
 * channels: prepared multipliers, accumulators [o][4], packed rows (8 k),
 * an output block [4][o] and, with im2col, four im2col rows.
 */
int32_t tf_nn_rows_buffer_size(int32_t k, int32_t o, int32_t im2col);

/* tf_nn_rows_buffer_size for a geometry (im2col unless 1x1 without padding). */
int32_t tf_nn_conv_rows_buffer_size(const tf_nn_conv_geometry *g);

/* Exactly one of dense / sparse is non-NULL. */
tf_status tf_nn_conv_rows_s8(const tf_context *ctx, const tf_nn_conv_geometry *g,
                             const int8_t *dense, const tf_sparse_weights *sparse,
                             const tf_nn_output_stage *stage, int8_t *output);

/* Fills a geometry from the public conv arguments; TF_STATUS_ARG_ERROR if inconsistent. */
tf_status tf_nn_conv_geometry_init(const tf_conv_params *params, const tf_dims *input_dims,
                                   const int8_t *input, const tf_dims *filter_dims,
                                   const tf_dims *output_dims, tf_nn_conv_geometry *g);

#endif
