/*
 * tf_nn_conv_rows_s8: the loop shared by conv 1x1, conv KxK and linear.
 * Output pixels are taken four at a time; their input rows (the pixel itself
 * for 1x1, an im2col row for KxK) are packed once to int16 and then
 * multiplied by every weight row, dense or block-RLE.
 */
#include "tf_nn_conv_rows.h"

#include "tf_nn_internal.h"
#include "tf_nn_support.h"

/* im2col row of output pixel (oy, ox) of image `batch`, padding = zero point. */
static void im2col_row(const tf_nn_conv_geometry *g, int32_t batch, int32_t oy, int32_t ox,
                       int8_t *row) {
    const int8_t pad_value = (int8_t)(-g->input_offset);
    const int32_t c = g->in_c;
    for (int32_t ky = 0; ky < g->kh; ky++) {
        const int32_t iy = oy * g->stride_h - g->pad_top + ky * g->dilation_h;
        for (int32_t kx = 0; kx < g->kw; kx++) {
            const int32_t ix = ox * g->stride_w - g->pad_left + kx * g->dilation_w;
            if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) {
                memset(row, pad_value, (size_t)c);
            } else {
                memcpy(row, g->input + ((batch * g->in_h + iy) * g->in_w + ix) * c, (size_t)c);
            }
            row += c;
        }
    }
}

/* Pointer to the input row of output pixel `p` (flat index), via im2col when needed. */
static const int8_t *input_row(const tf_nn_conv_geometry *g, int32_t p, int8_t *scratch) {
    const int32_t per_image = g->out_h * g->out_w;
    const int32_t batch = p / per_image;
    const int32_t oy = (p % per_image) / g->out_w;
    const int32_t ox = p % g->out_w;
    if (g->kh == 1 && g->kw == 1 && g->pad_top == 0 && g->pad_left == 0) {
        const int32_t iy = oy * g->stride_h, ix = ox * g->stride_w;
        return g->input + ((batch * g->in_h + iy) * g->in_w + ix) * g->in_c;
    }
    im2col_row(g, batch, oy, ox, scratch);
    return scratch;
}

#if TF_HAVE_FUSED_STORE
/*
 * Copies one output row's worth of bytes: 16 at a time with LDM/STM (four
 * instructions per 16 bytes with the loop) when both ends are word aligned
 * (output rows of the usual channel counts), else bytes.
 */
static void copy_row(int8_t *dst, const int8_t *src, int32_t n) {
    if ((((uintptr_t)dst | (uintptr_t)src) & 3u) == 0) {
        int32_t *d = (int32_t *)(void *)dst;
        const int32_t *s = (const int32_t *)(const void *)src;
        for (; n >= 16; n -= 16) {
            register int32_t w0 __asm("r4");
            register int32_t w1 __asm("r5");
            register int32_t w2 __asm("r6");
            register int32_t w3 __asm("r8");
            __asm volatile(
                "ldmia %[s]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"
                "stmia %[d]!, {%[w0], %[w1], %[w2], %[w3]}"
                :
                [s] "+r"(s), [d] "+r"(d), [w0] "=r"(w0), [w1] "=r"(w1), [w2] "=r"(w2), [w3] "=r"(w3)
                :
                : "memory");
        }
        dst = (int8_t *)d;
        src = (const int8_t *)s;
    }
    memcpy(dst, src, (size_t)n);
}

/*
 * Sparse weights, fused requantization (tf_nn_sparse_rows4_s8): the output
 * of every channel whose row has no stored block is its requantized bias,
 * computed here once per layer and copied over each group's output rows
 * before the sparse walk, which then writes only the channels it walks. A
 * missing bias becomes zeros, so the walk need not test for it. Scratch: the
 * accumulator area, which the fused path does not use.
 */
static const int8_t *prepare_empty_rows(const tf_sparse_weights *sparse, int32_t o,
                                        tf_nn_output_stage *st, int32_t *scratch) {
    int8_t *empty_out = (int8_t *)scratch;
    for (int32_t i = 0; i < o; i++) empty_out[i] = tf_nn_output(0, i, st);
    if (st->bias == 0) {
        int32_t *zeros = scratch + (o + 3) / 4;
        for (int32_t i = 0; i < o; i++) zeros[i] = 0;
        st->bias = zeros;
    }
    st->empty_prefilled = sparse->stored_rows < o;
    return st->empty_prefilled ? empty_out : 0;
}
#endif

int32_t tf_nn_rows_buffer_size(int32_t k, int32_t o, int32_t im2col) {
    return ((int32_t)sizeof(tf_requant) + 16 + 4) * o + 8 * k + (im2col ? 4 * ((k + 3) & ~3) : 0);
}

int32_t tf_nn_conv_rows_buffer_size(const tf_nn_conv_geometry *g) {
    const int32_t direct = g->kh == 1 && g->kw == 1 && g->pad_top == 0 && g->pad_left == 0;
    return tf_nn_rows_buffer_size(g->kh * g->kw * g->in_c, g->out_c, !direct);
}

tf_status tf_nn_conv_rows_s8(const tf_context *ctx, const tf_nn_conv_geometry *g,
                             const int8_t *dense, const tf_sparse_weights *sparse,
                             const tf_nn_output_stage *stage, int8_t *output) {
    const int32_t k = g->kh * g->kw * g->in_c;
    if (ctx == 0 || ctx->buf == 0 || ctx->size < tf_nn_conv_rows_buffer_size(g)) {
        return TF_STATUS_SCRATCH_ERROR;
    }
    /*
     * Scratch: prepared multipliers [O], accumulators [O][4], packed rows
     * [2 K words], output block of a last partial group [4][O], im2col rows.
     */
    tf_requant *prepared = (tf_requant *)ctx->buf;
    for (int32_t i = 0; i < g->out_c; i++) {
        prepared[i] = tf_requant_prepare(stage->multiplier[i], stage->shift[i]);
        tf_requant_fold_offset(&prepared[i], stage->output_offset);
    }
    int32_t fused = stage->act_min == -128 && stage->act_max == 127;
    /* Any shift: a left shift has its own fused store (tf_requant_fold_offset). */
    int32_t any_left = 0;
    for (int32_t i = 0; i < g->out_c; i++) {
        fused &= prepared[i].folded;
        any_left |= prepared[i].shift >= 0;
    }
    if (fused && any_left) fused = 2;
    tf_nn_output_stage st = *stage;
    st.prepared = prepared;
    st.fused = fused;
    int32_t *acc = (int32_t *)(prepared + g->out_c);
#if TF_HAVE_FUSED_STORE
    const int8_t *empty_out =
        sparse != 0 && fused ? prepare_empty_rows(sparse, g->out_c, &st, acc) : 0;
#endif
    int32_t *packed = acc + 4 * g->out_c;
    int8_t *tail_out = (int8_t *)(packed + 2 * k); /* [4][O], for a last partial group */
    int8_t *im2col = tail_out + 4 * g->out_c;
    const int32_t im2col_stride = (k + 3) & ~3;
    const tf_nn_row_layout layout = sparse == 0 ? TF_NN_LAYOUT_QUAD : tf_nn_sparse_layout(sparse);
    const int32_t pixels = g->batches * g->out_h * g->out_w;
    const int32_t o = g->out_c;
    for (int32_t p = 0; p < pixels; p += 4) {
        const int32_t count = pixels - p < 4 ? pixels - p : 4;
        const int8_t *rows[4];
        for (int32_t r = 0; r < 4; r++) {
            /* Past the last pixel, repeat it. */
            rows[r] = r < count ? input_row(g, p + r, im2col + r * im2col_stride) : rows[r - 1];
        }
        tf_nn_pack_rows4_s16(rows, k, g->input_offset, layout, packed);
        int8_t *dst = count == 4 ? output + p * o : tail_out;
        if (sparse == 0) {
            tf_nn_dense_rows4_s32(packed, k, dense, o, stage->bias, 0, acc);
            tf_nn_requant_rows4_s8(acc, o, &st, dst, o);
        } else {
#if TF_HAVE_FUSED_STORE
            if (empty_out != 0) {
                for (int32_t r = 0; r < 4; r++) copy_row(dst + r * o, empty_out, o);
            }
#endif
            tf_nn_sparse_rows4_s8(packed, k, sparse, o, &st, acc, dst, o);
        }
        if (count < 4) memcpy(output + p * o, tail_out, (size_t)(count * o));
    }
    return TF_STATUS_OK;
}
