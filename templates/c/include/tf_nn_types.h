/*
 * TinyFormer SparseEngine: types shared by every kernel (stable API).
 *
 * Conventions (CMSIS-NN style):
 * - every kernel returns a tf_status;
 * - activations are int8, NHWC (conv) or [rows, features] (linear);
 * - weights are int8, per-output-channel symmetric, OHWI (conv) or [O, I];
 * - biases are int32 at scale s_in * s_w (NULL: no bias);
 * - requantization is TFLite's double rounding (tf_requantize);
 * - scratch memory comes from the caller through tf_context, sized with the
 *   kernel's *_get_buffer_size function; no kernel allocates.
 */
#ifndef TF_NN_TYPES_H
#define TF_NN_TYPES_H

#include <stdint.h>

typedef enum {
    TF_STATUS_OK = 0,
    /* A parameter is out of the documented range (shape, size, NULL). */
    TF_STATUS_ARG_ERROR = -1,
    /* The scratch buffer in the context is missing or too small. */
    TF_STATUS_SCRATCH_ERROR = -2
} tf_status;

/* Caller-provided scratch memory; buf must be 4-byte aligned. */
typedef struct {
    void *buf;
    int32_t size; /* bytes */
} tf_context;

/* Tensor dimensions; unused trailing dimensions are 1. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} tf_dims;

/* Per-output-channel requantization: real multiplier ~= multiplier * 2^(shift - 31). */
typedef struct {
    const int32_t *multiplier; /* [O], Q31, 0 or in [2^30, 2^31) */
    const int32_t *shift;      /* [O], in [-31, 30] */
} tf_per_channel_quant;

/* Convolution geometry and quantization (conv 1x1, kxk, depthwise). */
typedef struct {
    int32_t input_offset;  /* minus the input zero point, [-127, 128] */
    int32_t output_offset; /* the output zero point, [-128, 127] */
    int32_t stride_h;      /* >= 1 */
    int32_t stride_w;      /* >= 1 */
    int32_t pad_top;       /* rows of implicit input zero point above the input, >= 0 */
    int32_t pad_left;      /* columns of implicit input zero point left of the input, >= 0 */
    int32_t dilation_h;    /* >= 1 */
    int32_t dilation_w;    /* >= 1 */
    int32_t act_min;       /* output clamp after adding output_offset, [-128, act_max] */
    int32_t act_max;       /* [act_min, 127] */
} tf_conv_params;

/* Linear (fully connected) quantization. */
typedef struct {
    int32_t input_offset;  /* minus the input zero point, [-127, 128] */
    int32_t output_offset; /* the output zero point, [-128, 127] */
    int32_t act_min;       /* [-128, act_max] */
    int32_t act_max;       /* [act_min, 127] */
} tf_linear_params;

/*
 * A pruned weight: the model IR's blockwise run-length encoding
 * (src/model-ir/sparse-encoding.ts) repacked into one byte stream by
 * src/sparse-engine/pack-weights.ts, so the kernel walks a single pointer.
 * `rows` output channels, each `row_length` weights long (conv: KH*KW*I,
 * linear: I), cut into blocks of `block_size` weights along the reduction
 * axis; only non-zero blocks are stored, and only rows with at least one
 * stored block ("stored rows") appear. Stream, per stored row:
 *     skip     uint16 little endian: rows without a stored block between the
 *              previous stored row (or the start) and this one
 *     count    uint16 LE: stored blocks of the row, at least 1
 *     then per stored block:
 *       run    uint8 (run_bytes 1) or uint16 LE (run_bytes 2): zero blocks
 *              skipped since the previous stored block of the row
 *       values block_size int8 weights
 * No alignment anywhere (Cortex-M7 loads words from any address). A row
 * whose blocks were all pruned costs nothing to walk: its output is the
 * requantized bias, the same for every pixel.
 */
typedef struct {
    int32_t block_size;    /* 1, 4, 8 or 16; divides row_length */
    int32_t run_bytes;     /* 1 or 2 */
    int32_t stored_rows;   /* rows with at least one stored block */
    const uint8_t *stream; /* the packed rows, see above */
} tf_sparse_weights;

#endif
