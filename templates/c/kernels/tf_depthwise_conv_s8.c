/*
 * tf_depthwise_conv_s8: depthwise convolution, dense weights (see tf_nn.h).
 *
 * The weights are first copied tap-major into the scratch ([KH*KW][O]), so
 * that for one tap the weights of consecutive channels are consecutive. With
 * channel multiplier 1, each output pixel is computed four channels at a
 * time with the accumulators in registers: per in-bounds tap one word of four
 * inputs and one word of four weights, sign-extended with SXTB16 (the input
 * offset added with SADD16), and four SMLABB/SMLATT. Padded taps are skipped
 * (they read the input zero point, which contributes nothing). Multipliers
 * are prepared once per call and the pixel's channels requantized together
 * (tf_nn_requant_channels_s8). A channel
 * multiplier above 1 and the last channels (O % 4) take a scalar loop.
 */
#include "tf_nn.h"
#include "tf_nn_conv_rows.h"
#include "tf_nn_internal.h"
#include "tf_nn_support.h"

int32_t tf_depthwise_conv_s8_get_buffer_size(const tf_dims *filter_dims) {
    const int32_t o = filter_dims->n;
    const int32_t taps = filter_dims->h * filter_dims->w;
    return ((int32_t)sizeof(tf_requant) + 4) * o + ((taps * o + 3) & ~3) + 2 * taps * (o & ~3);
}

tf_status tf_depthwise_conv_s8(const tf_context *ctx, const tf_conv_params *params,
                               const tf_per_channel_quant *quant, const tf_dims *input_dims,
                               const int8_t *input, const tf_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias,
                               const tf_dims *output_dims, int8_t *output) {
    if (params == 0 || quant == 0 || input_dims == 0 || input == 0 || filter_dims == 0 ||
        filter == 0 || output_dims == 0 || output == 0 || filter_dims->c != 1 ||
        input_dims->c < 1 || filter_dims->n % input_dims->c != 0 ||
        output_dims->c != filter_dims->n || params->stride_h < 1 || params->stride_w < 1 ||
        params->dilation_h < 1 || params->dilation_w < 1 || params->act_min > params->act_max) {
        return TF_STATUS_ARG_ERROR;
    }
    const int32_t o = filter_dims->n;
    if (ctx == 0 || ctx->buf == 0 ||
        ctx->size < tf_depthwise_conv_s8_get_buffer_size(filter_dims)) {
        return TF_STATUS_SCRATCH_ERROR;
    }
    const int32_t c = input_dims->c, m = o / c;
    const int32_t kh = filter_dims->h, kw = filter_dims->w, taps = kh * kw;
    const int32_t h = input_dims->h, w = input_dims->w;
    const int32_t off = params->input_offset;
    /*
     * Scratch: prepared multipliers [O], per-channel accumulators [O], weights
     * as int16 pairs for the vector path ([taps][O / 4][2 words]: [w0, w2]
     * [w1, w3] per group of four channels), tap-major int8 weights [taps][O]
     * for the scalar path.
     */
    tf_requant *prepared = (tf_requant *)ctx->buf;
    int32_t *acc = (int32_t *)(prepared + o);
    int32_t *w16 = acc + o;
    const int32_t groups = o >> 2;
    int8_t *wt = (int8_t *)(w16 + 2 * taps * groups);
    int32_t fused = params->act_min == -128 && params->act_max == 127;
    for (int32_t i = 0; i < o; i++) {
        prepared[i] = tf_requant_prepare(quant->multiplier[i], quant->shift[i]);
        tf_requant_fold_offset(&prepared[i], params->output_offset);
        fused &= prepared[i].shift < 0 && prepared[i].folded;
    }
    for (int32_t t = 0; t < taps; t++) {
        for (int32_t i = 0; i < o; i++) wt[t * o + i] = filter[i * taps + t];
        for (int32_t g = 0; g < groups; g++) {
            const int32_t wv = tf_read_s8x4(wt + t * o + 4 * g);
            w16[(t * groups + g) * 2] = tf_sxtb16(wv);
            w16[(t * groups + g) * 2 + 1] = tf_sxtb16_ror8(wv);
        }
    }
    tf_nn_output_stage stage = tf_nn_per_channel_stage(bias, quant, params->output_offset,
                                                       params->act_min, params->act_max);
    stage.prepared = prepared;
    stage.fused = fused;
    const int32_t vector_end = m == 1 ? (o & ~3) : 0;
    const int32_t dh = params->dilation_h, dw = params->dilation_w;
    const int32_t off2 = tf_dup16(off);
    for (int32_t b = 0; b < input_dims->n; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_top;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * params->stride_w - params->pad_left;
                int8_t *out = output + ((b * output_dims->h + oy) * output_dims->w + ox) * o;
                const int8_t *base = input + (b * h * w) * c;
                /* In-bounds taps (padding contributes nothing). */
                int32_t ky0 = 0, ky1 = kh, kx0 = 0, kx1 = kw;
                while (ky0 < kh && y0 + ky0 * dh < 0) ky0++;
                while (ky1 > ky0 && y0 + (ky1 - 1) * dh >= h) ky1--;
                while (kx0 < kw && x0 + kx0 * dw < 0) kx0++;
                while (kx1 > kx0 && x0 + (kx1 - 1) * dw >= w) kx1--;
                const int8_t *first = base + ((y0 + ky0 * dh) * w + x0 + kx0 * dw) * c;
                const int32_t *wfirst = w16 + (ky0 * kw + kx0) * 2 * groups;
                for (int32_t i = 0; i < vector_end; i += 4) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    if (bias != 0) {
                        a0 = bias[i];
                        a1 = bias[i + 1];
                        a2 = bias[i + 2];
                        a3 = bias[i + 3];
                    }
                    const int8_t *xrow = first + i;
                    const int32_t *wrow = wfirst + (i >> 1);
                    for (int32_t ky = ky0; ky < ky1;
                         ky++, xrow += dh * w * c, wrow += kw * 2 * groups) {
                        const int8_t *xp = xrow;
                        const int32_t *wp = wrow;
                        for (int32_t kx = kx0; kx < kx1; kx++, xp += dw * c, wp += 2 * groups) {
                            const int32_t xv = tf_read_s8x4(xp);
                            const int32_t x02 = tf_sadd16(tf_sxtb16(xv), off2);
                            const int32_t x13 = tf_sadd16(tf_sxtb16_ror8(xv), off2);
                            const int32_t w02 = wp[0], w13 = wp[1];
                            a0 = tf_smlabb(x02, w02, a0);
                            a2 = tf_smlatt(x02, w02, a2);
                            a1 = tf_smlabb(x13, w13, a1);
                            a3 = tf_smlatt(x13, w13, a3);
                        }
                    }
                    acc[i] = a0;
                    acc[i + 1] = a1;
                    acc[i + 2] = a2;
                    acc[i + 3] = a3;
                }
                tf_nn_requant_channels_s8(acc, vector_end, &stage, out);
                if (vector_end == o) continue;
                for (int32_t i = vector_end; i < o; i++) acc[i] = 0;
                for (int32_t ky = 0; ky < kh; ky++) {
                    const int32_t iy = y0 + ky * params->dilation_h;
                    if (iy < 0 || iy >= h) continue;
                    for (int32_t kx = 0; kx < kw; kx++) {
                        const int32_t ix = x0 + kx * params->dilation_w;
                        if (ix < 0 || ix >= w) continue;
                        const int8_t *x = base + (iy * w + ix) * c;
                        const int8_t *wr = wt + (ky * kw + kx) * o;
                        for (int32_t i = vector_end; i < o; i++) {
                            acc[i] = tf_add_wrap(acc[i], (x[i / m] + off) * wr[i]);
                        }
                    }
                }
                for (int32_t i = vector_end; i < o; i++) out[i] = tf_nn_output(acc[i], i, &stage);
            }
        }
    }
    return TF_STATUS_OK;
}
