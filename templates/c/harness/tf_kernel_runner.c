/*
 * tf_kernel_runner: runs kernel test/benchmark cases read from a file, on the
 * host (stdio) and on the target under QEMU (newlib semihosting file I/O).
 *
 * Input file (TF_RUNNER_INPUT, default "cases.bin"): a sequence of cases, all
 * fields little-endian int32 words:
 *     op, n_params, params[n_params], n_buffers,
 *     then per buffer: n_bytes, bytes (padded to a multiple of 4)
 * Output file (TF_RUNNER_OUTPUT, default "results.bin"): per case
 *     status, n_bytes, output bytes (padded to a multiple of 4)
 *
 * Each kernel call is wrapped in tf_region_begin() / tf_region_end(), after one
 * empty region, so the insn_count plugin reports [empty, case 1, case 2, ...].
 * Buffers live in one static arena (TF_RUNNER_ARENA_BYTES), reset per case.
 * Exit status: 0 when every case ran (whatever its status), 1 on a malformed
 * file or an arena overflow.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tf_markers.h"
#include "tf_nn.h"

#ifndef TF_RUNNER_INPUT
#define TF_RUNNER_INPUT "cases.bin"
#endif
#ifndef TF_RUNNER_OUTPUT
#define TF_RUNNER_OUTPUT "results.bin"
#endif
#ifndef TF_RUNNER_ARENA_BYTES
#define TF_RUNNER_ARENA_BYTES (224 * 1024)
#endif
#define TF_RUNNER_MAX_PARAMS 64
#define TF_RUNNER_MAX_BUFFERS 16

enum {
    OP_CONV_1X1 = 1,
    OP_CONV_1X1_SPARSE = 2,
    OP_CONV_KXK = 3,
    OP_CONV_KXK_SPARSE = 4,
    OP_LINEAR = 5,
    OP_LINEAR_SPARSE = 6,
    OP_DEPTHWISE = 7,
    OP_MATMUL = 8,
    OP_ADD = 9,
    OP_LUT = 10,
    OP_AVG_POOL = 11,
    OP_GLOBAL_AVG_POOL = 12,
    OP_SOFTMAX = 13,
    OP_LAYERNORM = 14,
    OP_TRANSPOSE = 15,
    OP_RESHAPE = 16,
    OP_MUL = 17,
    OP_ADD_BROADCAST = 18,
    OP_MUL_BROADCAST = 19,
    OP_CONCAT = 20,
    OP_UNFOLD = 21,
    OP_FOLD = 22
};

static int32_t arena[TF_RUNNER_ARENA_BYTES / 4];
static int32_t arena_used; /* words */

static void *arena_alloc(int32_t bytes) {
    const int32_t words = (bytes + 3) / 4;
    if (bytes < 0 || arena_used + words > (int32_t)(sizeof(arena) / 4)) return 0;
    void *p = &arena[arena_used];
    arena_used += words;
    return p;
}

typedef struct {
    int32_t params[TF_RUNNER_MAX_PARAMS];
    int32_t n_params;
    void *buf[TF_RUNNER_MAX_BUFFERS];
    int32_t size[TF_RUNNER_MAX_BUFFERS];
    int32_t n_buffers;
} runner_case;

static int read_word(FILE *f, int32_t *v) { return fread(v, 4, 1, f) == 1; }

/* 1: case read, 0: clean end of file, -1: error. */
static int read_case(FILE *f, int32_t *op, runner_case *c) {
    if (!read_word(f, op)) return 0;
    if (!read_word(f, &c->n_params) || c->n_params < 0 || c->n_params > TF_RUNNER_MAX_PARAMS)
        return -1;
    if (c->n_params > 0 && fread(c->params, 4, (size_t)c->n_params, f) != (size_t)c->n_params)
        return -1;
    if (!read_word(f, &c->n_buffers) || c->n_buffers < 0 || c->n_buffers > TF_RUNNER_MAX_BUFFERS)
        return -1;
    for (int32_t i = 0; i < c->n_buffers; i++) {
        if (!read_word(f, &c->size[i])) return -1;
        const int32_t padded = (c->size[i] + 3) & ~3;
        c->buf[i] = arena_alloc(padded);
        if (c->buf[i] == 0) return -1;
        if (padded > 0 && fread(c->buf[i], 1, (size_t)padded, f) != (size_t)padded) return -1;
    }
    return 1;
}

/* Buffer i, or NULL when it is empty (an absent bias). */
static const void *buffer(const runner_case *c, int32_t i) {
    return c->size[i] == 0 ? 0 : c->buf[i];
}

static tf_context scratch(int32_t bytes) {
    tf_context ctx;
    ctx.buf = arena_alloc(bytes);
    ctx.size = ctx.buf == 0 ? 0 : bytes;
    return ctx;
}

/*
 * conv params: N H W C  O KH KW  OH OW  stride_h stride_w pad_top pad_left
 * dil_h dil_w  in_off out_off act_min act_max  [block_size run_bytes stored_rows]
 * buffers: input, bias, multiplier, shift, then the filter (dense) or the
 * packed sparse stream.
 */
static tf_status run_conv(int32_t op, const runner_case *c, int8_t *out) {
    const int32_t *p = c->params;
    const tf_dims in = {p[0], p[1], p[2], p[3]};
    const tf_dims filter = {p[4], p[5], p[6], op == OP_DEPTHWISE ? 1 : p[3]};
    const tf_dims outd = {p[0], p[7], p[8], p[4]};
    const tf_conv_params cp = {p[15], p[16], p[9], p[10], p[11], p[12], p[13], p[14], p[17], p[18]};
    const tf_per_channel_quant q = {(const int32_t *)buffer(c, 2), (const int32_t *)buffer(c, 3)};
    const int8_t *input = (const int8_t *)buffer(c, 0);
    const int32_t *bias = (const int32_t *)buffer(c, 1);
    const tf_sparse_weights sw = {p[19], p[20], p[21], (const uint8_t *)buffer(c, 4)};
    const int8_t *dense = (const int8_t *)buffer(c, 4);
    tf_context ctx;
    tf_status status = TF_STATUS_ARG_ERROR;
    switch (op) {
        case OP_CONV_1X1:
            ctx = scratch(tf_conv_1x1_s8_get_buffer_size(&in, &filter));
            tf_region_begin();
            status = tf_conv_1x1_s8(&ctx, &cp, &q, &in, input, &filter, dense, bias, &outd, out);
            tf_region_end();
            break;
        case OP_CONV_1X1_SPARSE:
            ctx = scratch(tf_conv_1x1_sparse_s8_get_buffer_size(&in, &filter));
            tf_region_begin();
            status =
                tf_conv_1x1_sparse_s8(&ctx, &cp, &q, &in, input, &filter, &sw, bias, &outd, out);
            tf_region_end();
            break;
        case OP_CONV_KXK:
            ctx = scratch(tf_conv_kxk_s8_get_buffer_size(&in, &filter));
            tf_region_begin();
            status = tf_conv_kxk_s8(&ctx, &cp, &q, &in, input, &filter, dense, bias, &outd, out);
            tf_region_end();
            break;
        case OP_CONV_KXK_SPARSE:
            ctx = scratch(tf_conv_kxk_sparse_s8_get_buffer_size(&in, &filter));
            tf_region_begin();
            status =
                tf_conv_kxk_sparse_s8(&ctx, &cp, &q, &in, input, &filter, &sw, bias, &outd, out);
            tf_region_end();
            break;
        case OP_DEPTHWISE:
            ctx = scratch(tf_depthwise_conv_s8_get_buffer_size(&filter));
            tf_region_begin();
            status =
                tf_depthwise_conv_s8(&ctx, &cp, &q, &in, input, &filter, dense, bias, &outd, out);
            tf_region_end();
            break;
        default:
            break;
    }
    return status;
}

/*
 * linear params: rows in_features out_features in_off out_off act_min act_max
 * [block_size run_bytes stored_rows]; buffers as for conv.
 */
static tf_status run_linear(int32_t op, const runner_case *c, int8_t *out) {
    const int32_t *p = c->params;
    const tf_linear_params lp = {p[3], p[4], p[5], p[6]};
    const tf_per_channel_quant q = {(const int32_t *)buffer(c, 2), (const int32_t *)buffer(c, 3)};
    const int8_t *input = (const int8_t *)buffer(c, 0);
    const int32_t *bias = (const int32_t *)buffer(c, 1);
    tf_status status;
    if (op == OP_LINEAR) {
        tf_context ctx = scratch(tf_linear_s8_get_buffer_size(p[1], p[2]));
        tf_region_begin();
        status = tf_linear_s8(&ctx, &lp, &q, p[0], p[1], p[2], input, (const int8_t *)buffer(c, 4),
                              bias, out);
        tf_region_end();
    } else {
        const tf_sparse_weights sw = {p[7], p[8], p[9], (const uint8_t *)buffer(c, 4)};
        tf_context ctx = scratch(tf_linear_sparse_s8_get_buffer_size(p[1], p[2]));
        tf_region_begin();
        status = tf_linear_sparse_s8(&ctx, &lp, &q, p[0], p[1], p[2], input, &sw, bias, out);
        tf_region_end();
    }
    return status;
}

/* matmul params: batch m k n a_off b_off out_off multiplier shift transpose_b; buffers a, b. */
static tf_status run_matmul(const runner_case *c, int8_t *out) {
    const int32_t *p = c->params;
    const tf_matmul_params mp = {p[4], p[5], p[6], p[7], p[8], p[9]};
    tf_context ctx = scratch(tf_batch_matmul_s8_get_buffer_size(p[2], p[3], p[9]));
    tf_region_begin();
    const tf_status status =
        tf_batch_matmul_s8(&ctx, &mp, p[0], p[1], p[2], p[3], (const int8_t *)buffer(c, 0),
                           (const int8_t *)buffer(c, 1), out);
    tf_region_end();
    return status;
}

/*
 * add / mul with broadcasting: rank shape[6] strides1[6] strides2[6] in1_off
 * in2_off out_off, then the add parameters from left_shift on (left_shift m1
 * s1 m2 s2 mo so act_min act_max) or the mul ones (multiplier shift act_min
 * act_max); buffers a, b.
 */
static tf_status run_broadcast(int32_t op, const runner_case *c, int8_t *out) {
    const int32_t *p = c->params;
    const int8_t *a = (const int8_t *)buffer(c, 0);
    const int8_t *b = (const int8_t *)buffer(c, 1);
    tf_status status;
    if (op == OP_ADD_BROADCAST) {
        const tf_add_params ap = {p[19], p[20], p[21], p[22], p[23], p[24],
                                  p[25], p[26], p[27], p[28], p[29], p[30]};
        tf_region_begin();
        status = tf_add_broadcast_s8(&ap, p[0], p + 1, p + 7, p + 13, a, b, out);
        tf_region_end();
    } else {
        const tf_mul_params mp = {p[19], p[20], p[21], p[22], p[23], p[24], p[25]};
        tf_region_begin();
        status = tf_mul_broadcast_s8(&mp, p[0], p + 1, p + 7, p + 13, a, b, out);
        tf_region_end();
    }
    return status;
}

/*
 * concat params: outer count out_off, then per part width requantize in_off
 * multiplier shift; buffers: one per part.
 */
static tf_status run_concat(const runner_case *c, int8_t *out) {
    const int32_t *p = c->params;
    const int32_t count = p[1];
    tf_concat_part parts[TF_RUNNER_MAX_BUFFERS];
    if (count < 1 || count > c->n_buffers || c->n_params < 4 + 5 * count) {
        return TF_STATUS_ARG_ERROR;
    }
    for (int32_t i = 0; i < count; i++) {
        const int32_t *q = p + 3 + 5 * i;
        const tf_concat_part part = {(const int8_t *)c->buf[i], q[0], q[1], q[2], q[3], q[4]};
        parts[i] = part;
    }
    tf_region_begin();
    const tf_status status = tf_concat_s8(p[0], count, parts, p[2], out);
    tf_region_end();
    return status;
}

/* The element-wise, pooling, normalisation and data-movement kernels. */
static tf_status run_other(int32_t op, const runner_case *c, int8_t *out) {
    const int32_t *p = c->params;
    const int8_t *in = (const int8_t *)buffer(c, 0);
    tf_status status = TF_STATUS_ARG_ERROR;
    tf_region_begin();
    switch (op) {
        case OP_ADD: {
            /* size in1_off in2_off out_off left_shift m1 s1 m2 s2 mo so act_min act_max */
            const tf_add_params ap = {p[1], p[2], p[3], p[4],  p[5],  p[6],
                                      p[7], p[8], p[9], p[10], p[11], p[12]};
            status = tf_add_s8(&ap, p[0], in, (const int8_t *)buffer(c, 1), out);
            break;
        }
        case OP_MUL: {
            /* size in1_off in2_off out_off multiplier shift act_min act_max */
            const tf_mul_params mp = {p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
            status = tf_mul_s8(&mp, p[0], in, (const int8_t *)buffer(c, 1), out);
            break;
        }
        case OP_LUT: /* size; buffers input, table */
            status = tf_lut_s8(p[0], in, (const int8_t *)buffer(c, 1), out);
            break;
        case OP_AVG_POOL: {
            /* N H W C OH OW pool_h pool_w stride_h stride_w pad_top pad_left */
            const tf_dims id = {p[0], p[1], p[2], p[3]};
            const tf_dims od = {p[0], p[4], p[5], p[3]};
            status = tf_avg_pool_s8(p[6], p[7], p[8], p[9], p[10], p[11], &id, in, &od, out);
            break;
        }
        case OP_GLOBAL_AVG_POOL: {
            /* N H W C in_off out_off multiplier shift */
            const tf_dims id = {p[0], p[1], p[2], p[3]};
            status = tf_global_avg_pool_s8(p[4], p[5], p[6], p[7], &id, in, out);
            break;
        }
        case OP_SOFTMAX: /* rows depth multiplier left_shift diff_min */
        {
            tf_context ctx = scratch(tf_softmax_s8_get_buffer_size(p[4]));
            status = tf_softmax_s8(&ctx, p[0], p[1], p[2], p[3], p[4], in, out);
        } break;
        case OP_LAYERNORM: {
            /* rows channels eps_lo eps_hi out_off; buffers input gamma beta multiplier shift */
            const int64_t eps = (int64_t)(((uint64_t)(uint32_t)p[3] << 32) | (uint32_t)p[2]);
            status = tf_layernorm_s8(p[0], p[1], eps, (const int8_t *)buffer(c, 1),
                                     (const int32_t *)buffer(c, 2), (const int32_t *)buffer(c, 3),
                                     (const int32_t *)buffer(c, 4), p[4], in, out);
            break;
        }
        case OP_TRANSPOSE: /* rank shape[6] perm[6] */
            status = tf_transpose_s8(p[0], p + 1, p + 7, in, out);
            break;
        case OP_RESHAPE: /* size */
            status = tf_reshape_s8(p[0], in, out);
            break;
        case OP_UNFOLD:
        case OP_FOLD: {
            /* N H W C of the image, patch_h patch_w */
            const tf_dims image = {p[0], p[1], p[2], p[3]};
            status = op == OP_UNFOLD ? tf_unfold_s8(&image, p[4], p[5], in, out)
                                     : tf_fold_s8(&image, p[4], p[5], in, out);
            break;
        }
        default:
            break;
    }
    tf_region_end();
    return status;
}

int main(void) {
    FILE *in = fopen(TF_RUNNER_INPUT, "rb");
    FILE *out = fopen(TF_RUNNER_OUTPUT, "wb");
    if (in == 0 || out == 0) {
        fputs("tf_kernel_runner: cannot open the case or result file\n", stderr);
        return 1;
    }
    tf_region_begin();
    tf_region_end();
    static runner_case c;
    for (;;) {
        arena_used = 0;
        int32_t op = 0;
        const int r = read_case(in, &op, &c);
        if (r == 0) break;
        /* The last parameter of every case is the output size in bytes. */
        if (r < 0 || c.n_params < 1) {
            fputs("tf_kernel_runner: malformed case file or arena overflow\n", stderr);
            return 1;
        }
        const int32_t out_bytes = c.params[c.n_params - 1];
        int8_t *result = (int8_t *)arena_alloc(out_bytes);
        if (result == 0) {
            fputs("tf_kernel_runner: arena overflow\n", stderr);
            return 1;
        }
        memset(result, 0, (size_t)((out_bytes + 3) & ~3));
        tf_status status = TF_STATUS_ARG_ERROR;
        switch (op) {
            case OP_CONV_1X1:
            case OP_CONV_1X1_SPARSE:
            case OP_CONV_KXK:
            case OP_CONV_KXK_SPARSE:
            case OP_DEPTHWISE:
                status = run_conv(op, &c, result);
                break;
            case OP_LINEAR:
            case OP_LINEAR_SPARSE:
                status = run_linear(op, &c, result);
                break;
            case OP_MATMUL:
                status = run_matmul(&c, result);
                break;
            case OP_ADD_BROADCAST:
            case OP_MUL_BROADCAST:
                status = run_broadcast(op, &c, result);
                break;
            case OP_CONCAT:
                status = run_concat(&c, result);
                break;
            default:
                status = run_other(op, &c, result);
                break;
        }
        const int32_t header[2] = {(int32_t)status, out_bytes};
        fwrite(header, 4, 2, out);
        fwrite(result, 1, (size_t)((out_bytes + 3) & ~3), out);
    }
    fclose(out);
    fclose(in);
    return 0;
}
