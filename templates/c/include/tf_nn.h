/*
 * TinyFormer SparseEngine kernel library: the stable API the generated code
 * calls. One function per file in kernels/, named tf_<op>[_<variant>]_s8.
 * Every kernel that needs scratch memory has a *_get_buffer_size companion;
 * pass a tf_context whose buf holds at least that many bytes (4-byte aligned).
 *
 * Direction of each parameter: [in] read only, [out] written, [in,out] both.
 * Layouts: activations NHWC; conv weights OHWI; linear weights [O, I].
 */
#ifndef TF_NN_H
#define TF_NN_H

#include <stdint.h>

#include "tf_nn_types.h"

/* ---------------------------------------------------------------- conv 1x1 */

/*
 * 1x1 convolution, dense weights.
 *   ctx          [in]  scratch, tf_conv_1x1_s8_get_buffer_size bytes
 *   params       [in]  offsets, strides (>= 1), clamp; padding must be 0
 *   quant        [in]  per-output-channel multiplier / shift [O]
 *   input_dims   [in]  N, H, W, C_in
 *   input        [in]  int8 NHWC
 *   filter_dims  [in]  O, 1, 1, C_in
 *   filter       [in]  int8 [O, C_in], symmetric, [-127, 127]
 *   bias         [in]  int32 [O] or NULL
 *   output_dims  [in]  N, H_out, W_out, O (H_out = (H - 1) / stride_h + 1)
 *   output       [out] int8 NHWC
 */
tf_status tf_conv_1x1_s8(const tf_context *ctx, const tf_conv_params *params,
                         const tf_per_channel_quant *quant, const tf_dims *input_dims,
                         const int8_t *input, const tf_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias, const tf_dims *output_dims, int8_t *output);
int32_t tf_conv_1x1_s8_get_buffer_size(const tf_dims *input_dims, const tf_dims *filter_dims);

/* 1x1 convolution, block-RLE weights (rows O, row_length C_in); as above. */
tf_status tf_conv_1x1_sparse_s8(const tf_context *ctx, const tf_conv_params *params,
                                const tf_per_channel_quant *quant, const tf_dims *input_dims,
                                const int8_t *input, const tf_dims *filter_dims,
                                const tf_sparse_weights *filter, const int32_t *bias,
                                const tf_dims *output_dims, int8_t *output);
int32_t tf_conv_1x1_sparse_s8_get_buffer_size(const tf_dims *input_dims,
                                              const tf_dims *filter_dims);

/* ---------------------------------------------------------------- conv KxK */

/*
 * KxK convolution (any kernel size, stride, dilation, padding), dense weights,
 * through an im2col scratch of two output pixels.
 *   filter_dims  [in]  O, KH, KW, C_in; filter int8 OHWI
 *   output_dims  [in]  N, H_out, W_out, O
 * Padded taps contribute nothing (they read the input zero point).
 */
tf_status tf_conv_kxk_s8(const tf_context *ctx, const tf_conv_params *params,
                         const tf_per_channel_quant *quant, const tf_dims *input_dims,
                         const int8_t *input, const tf_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias, const tf_dims *output_dims, int8_t *output);
int32_t tf_conv_kxk_s8_get_buffer_size(const tf_dims *input_dims, const tf_dims *filter_dims);

/* KxK convolution, block-RLE weights (rows O, row_length KH*KW*C_in). */
tf_status tf_conv_kxk_sparse_s8(const tf_context *ctx, const tf_conv_params *params,
                                const tf_per_channel_quant *quant, const tf_dims *input_dims,
                                const int8_t *input, const tf_dims *filter_dims,
                                const tf_sparse_weights *filter, const int32_t *bias,
                                const tf_dims *output_dims, int8_t *output);
int32_t tf_conv_kxk_sparse_s8_get_buffer_size(const tf_dims *input_dims,
                                              const tf_dims *filter_dims);

/* --------------------------------------------------------------- depthwise */

/*
 * Depthwise convolution, dense weights, channel multiplier M = O / C_in
 * (output channel o reads input channel o / M).
 *   filter_dims  [in]  O, KH, KW, 1; filter int8 OHWI
 */
tf_status tf_depthwise_conv_s8(const tf_context *ctx, const tf_conv_params *params,
                               const tf_per_channel_quant *quant, const tf_dims *input_dims,
                               const int8_t *input, const tf_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias,
                               const tf_dims *output_dims, int8_t *output);
int32_t tf_depthwise_conv_s8_get_buffer_size(const tf_dims *filter_dims);

/* ------------------------------------------------------------------ linear */

/*
 * Linear (fully connected): output[r, o] = requant(sum_i (x[r, i] +
 * input_offset) * w[o, i] + bias[o]) for r < rows.
 *   input  [in]  int8 [rows, in_features]
 *   filter [in]  int8 [out_features, in_features]
 *   output [out] int8 [rows, out_features]
 */
tf_status tf_linear_s8(const tf_context *ctx, const tf_linear_params *params,
                       const tf_per_channel_quant *quant, int32_t rows, int32_t in_features,
                       int32_t out_features, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output);
int32_t tf_linear_s8_get_buffer_size(int32_t in_features, int32_t out_features);

/* Linear, block-RLE weights (rows out_features, row_length in_features). */
tf_status tf_linear_sparse_s8(const tf_context *ctx, const tf_linear_params *params,
                              const tf_per_channel_quant *quant, int32_t rows, int32_t in_features,
                              int32_t out_features, const int8_t *input,
                              const tf_sparse_weights *filter, const int32_t *bias, int8_t *output);
int32_t tf_linear_sparse_s8_get_buffer_size(int32_t in_features, int32_t out_features);

/* ------------------------------------------------------------ batch matmul */

typedef struct {
    int32_t a_offset;      /* minus the zero point of a */
    int32_t b_offset;      /* minus the zero point of b */
    int32_t output_offset; /* output zero point */
    int32_t multiplier;    /* one Q31 multiplier for the whole product */
    int32_t shift;
    int32_t transpose_b; /* 1: b is [batch, n, k] (Q.K^T); 0: [batch, k, n] (A.V) */
} tf_matmul_params;

/*
 * out[p, i, j] = requant(sum_kk (a[p, i, kk] + a_offset) * (b[p, kk, j] +
 * b_offset)), clamped to int8 (attention's Q.K^T and A.V).
 *   a   [in]  int8 [batch, m, k]
 *   b   [in]  int8 [batch, k, n], or [batch, n, k] when transpose_b
 *   out [out] int8 [batch, m, n]
 */
tf_status tf_batch_matmul_s8(const tf_context *ctx, const tf_matmul_params *params, int32_t batch,
                             int32_t m, int32_t k, int32_t n, const int8_t *a, const int8_t *b,
                             int8_t *out);
int32_t tf_batch_matmul_s8_get_buffer_size(int32_t k, int32_t n, int32_t transpose_b);

/* -------------------------------------------------------------- element-wise */

/* TFLite int8 ADD parameters (the model IR's add.int8). */
typedef struct {
    int32_t input1_offset; /* minus the zero point of input 1 */
    int32_t input2_offset; /* minus the zero point of input 2 */
    int32_t output_offset; /* output zero point */
    int32_t left_shift;    /* 20 */
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min;
    int32_t act_max;
} tf_add_params;

/*
 * Element-wise addition of two int8 tensors of the same shape (TFLite
 * reference_integer_ops::AddElementwise): both inputs shifted left by
 * left_shift, rescaled, summed, rescaled to the output, clamped.
 *   input1, input2 [in]  int8 [size]; output [out] int8 [size] (may alias an input)
 */
tf_status tf_add_s8(const tf_add_params *params, int32_t size, const int8_t *input1,
                    const int8_t *input2, int8_t *output);

/* TFLite int8 MUL parameters (the model IR's mul.int8). */
typedef struct {
    int32_t input1_offset; /* minus the zero point of input 1 */
    int32_t input2_offset; /* minus the zero point of input 2 */
    int32_t output_offset; /* output zero point */
    int32_t multiplier;    /* s1 * s2 / s_out as Q31 multiplier and shift */
    int32_t shift;
    int32_t act_min;
    int32_t act_max;
} tf_mul_params;

/*
 * Element-wise multiplication of two int8 tensors of the same shape (TFLite
 * reference_integer_ops::MulElementwise): output = clamp(output_offset +
 * requant((input1 + input1_offset) * (input2 + input2_offset))).
 *   input1, input2 [in]  int8 [size]; output [out] int8 [size] (may alias an input)
 */
tf_status tf_mul_s8(const tf_mul_params *params, int32_t size, const int8_t *input1,
                    const int8_t *input2, int8_t *output);

/* Largest rank tf_add_broadcast_s8 / tf_mul_broadcast_s8 take. */
#define TF_BROADCAST_MAX_RANK 6

/*
 * tf_add_s8 / tf_mul_s8 with NumPy broadcasting: output element at index
 * (i_0 .. i_{rank-1}) reads input1[sum_d i_d * input1_strides[d]] and
 * input2[sum_d i_d * input2_strides[d]]; a stride is 0 along a dimension the
 * input broadcasts (size 1 or missing), else that input's row-major stride.
 *   rank           [in] 1..TF_BROADCAST_MAX_RANK
 *   output_shape   [in] int32 [rank]; output [out] int8, row-major
 * The output may alias an input that has the output's shape.
 */
tf_status tf_add_broadcast_s8(const tf_add_params *params, int32_t rank,
                              const int32_t *output_shape, const int32_t *input1_strides,
                              const int32_t *input2_strides, const int8_t *input1,
                              const int8_t *input2, int8_t *output);
tf_status tf_mul_broadcast_s8(const tf_mul_params *params, int32_t rank,
                              const int32_t *output_shape, const int32_t *input1_strides,
                              const int32_t *input2_strides, const int8_t *input1,
                              const int8_t *input2, int8_t *output);

/*
 * Table activation (GELU, SiLU, hard-swish, ...): output[i] =
 * table[(uint8_t)input[i]] (TFLM LUTLookup). In place allowed.
 *   table [in] int8 [256], indexed by the input's two's-complement byte
 */
tf_status tf_lut_s8(int32_t size, const int8_t *input, const int8_t *table, int8_t *output);

/* ----------------------------------------------------------------- pooling */

/*
 * Average pooling (TFLM reference_integer_ops::AveragePool): the sum of the
 * in-bounds int8 inputs divided by their count, rounding half away from zero,
 * clamped to int8; input and output share quantization.
 *   input_dims [in] N, H, W, C; output_dims [in] N, H_out, W_out, C
 */
tf_status tf_avg_pool_s8(int32_t pool_h, int32_t pool_w, int32_t stride_h, int32_t stride_w,
                         int32_t pad_top, int32_t pad_left, const tf_dims *input_dims,
                         const int8_t *input, const tf_dims *output_dims, int8_t *output);

/*
 * Global average pooling [N, H, W, C] -> [N, C]: acc = sum over H*W of
 * (x + input_offset), output = clamp(output_offset + requant(acc, multiplier,
 * shift), -128, 127) with multiplier ~ s_in / (s_out * H * W).
 */
tf_status tf_global_avg_pool_s8(int32_t input_offset, int32_t output_offset, int32_t multiplier,
                                int32_t shift, const tf_dims *input_dims, const int8_t *input,
                                int8_t *output);

/* ------------------------------------------------------- softmax, layernorm */

/*
 * Softmax over rows of `depth` values, TFLM int8 semantics (output scale
 * 1/256, zero point -128), bit-exact with src/int8/softmax.ts.
 *   ctx [in] scratch of tf_softmax_s8_get_buffer_size(diff_min) bytes: the
 *       exponential of every difference from the row maximum the call can
 *       meet, computed once per call instead of twice per element
 *   input_multiplier, input_left_shift, diff_min [in] from the model IR's softmax.int8
 *   depth [in] 1..256
 */
int32_t tf_softmax_s8_get_buffer_size(int32_t diff_min);
tf_status tf_softmax_s8(const tf_context *ctx, int32_t rows, int32_t depth,
                        int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min,
                        const int8_t *input, int8_t *output);

/*
 * Integer LayerNorm ("Scaled-LayerNorm", docs/model-ir.md section 5.8) over
 * rows of `channels` values, bit-exact with src/int8/layernorm.ts.
 *   eps_q        [in] epsQ in [1, 2^40]
 *   gamma        [in] int8 [channels]; beta [in] int32 [channels]
 *   multiplier, shift [in] per-channel output requantization [channels]
 *   channels     [in] 1..4096
 */
tf_status tf_layernorm_s8(int32_t rows, int32_t channels, int64_t eps_q, const int8_t *gamma,
                          const int32_t *beta, const int32_t *multiplier, const int32_t *shift,
                          int32_t output_offset, const int8_t *input, int8_t *output);

/* ---------------------------------------------------------- data movement */

/*
 * Transpose of a tensor of rank 1..6: output dimension d is input dimension
 * perm[d]. input and output must not overlap.
 *   shape [in] input shape [rank]; perm [in] a permutation of 0..rank-1
 */
tf_status tf_transpose_s8(int32_t rank, const int32_t *shape, const int32_t *perm,
                          const int8_t *input, int8_t *output);

/*
 * MobileViT unfold [B, H, W, C] -> [B*ph*pw, (H/ph)*(W/pw), C]:
 *   out[b*ph*pw + i*pw + j][py*(W/pw) + px][c] = in[b][py*ph + i][px*pw + j][c]
 * (one sequence per position inside a patch). input and output must not overlap.
 *   image_dims [in] B, H, W, C of the input; H % patch_h == 0, W % patch_w == 0
 */
tf_status tf_unfold_s8(const tf_dims *image_dims, int32_t patch_h, int32_t patch_w,
                       const int8_t *input, int8_t *output);

/*
 * Inverse of tf_unfold_s8: [B*ph*pw, (H/ph)*(W/pw), C] -> [B, H, W, C].
 *   image_dims [in] B, H, W, C of the output. input and output must not overlap.
 */
tf_status tf_fold_s8(const tf_dims *image_dims, int32_t patch_h, int32_t patch_w,
                     const int8_t *input, int8_t *output);

/* One input of tf_concat_s8. */
typedef struct {
    const int8_t *input;  /* int8 [outer, width] */
    int32_t width;        /* its extent along the axis times the inner size */
    int32_t requantize;   /* 0: same quantization as the output (copy) */
    int32_t input_offset; /* minus its zero point (requantize only) */
    int32_t multiplier;   /* s_in / s_out (requantize only) */
    int32_t shift;
} tf_concat_part;

/*
 * Concatenation along one axis: output row o is the parts' rows o side by
 * side; a part that requantizes writes clamp(output_offset +
 * requant(x + input_offset), -128, 127). No part may overlap the output.
 *   outer  [in]  product of the dimensions before the axis
 *   parts  [in]  count entries; output [out] int8 [outer, sum of widths]
 */
tf_status tf_concat_s8(int32_t outer, int32_t count, const tf_concat_part *parts,
                       int32_t output_offset, int8_t *output);

/* Reshape: the bytes do not change; copies when input != output. */
tf_status tf_reshape_s8(int32_t size, const int8_t *input, int8_t *output);

#endif
