/*
 * tf_nn_requant_channels_s8: requantizes the accumulators of consecutive
 * channels of one pixel (out[i] from acc[i] with channel i's prepared
 * multiplier), for kernels that accumulate a pixel's channels side by side
 * (depthwise). Same arithmetic as tf_nn_requant_rows4_s8; the whole-range,
 * folded-zero-point case (stage->fused) uses TF_STORE_FULL_FOLDED or
 * TF_STORE_LEFT_FOLDED on the target, tf_requant_folded_s8 elsewhere.
 */
#include "tf_nn_internal.h"
#include "tf_nn_support.h"

void tf_nn_requant_channels_s8(const int32_t *acc, int32_t n, const tf_nn_output_stage *stage,
                               int8_t *out) {
    const tf_requant *q = stage->prepared;
#if TF_HAVE_FUSED_STORE
    if (stage->fused) {
        const int32_t int32_min = INT32_MIN;
        const int32_t zero = 0;
        for (int32_t i = 0; i < n; i++, q++) {
            const int32_t m = q->multiplier, hs = q->high_shift;
            int8_t *p = out + i;
            TF_STORE_FOLDED(acc[i], p, zero);
        }
        return;
    }
#else
    if (stage->fused) {
        for (int32_t i = 0; i < n; i++) out[i] = tf_requant_folded_s8(q + i, acc[i]);
        return;
    }
#endif
    const int32_t zp = stage->output_offset, lo = stage->act_min, hi = stage->act_max;
    for (int32_t i = 0; i < n; i++) {
        const int32_t y = tf_requant_apply_offset(q + i, acc[i], zp);
        out[i] = (int8_t)TF_MIN(TF_MAX(y, lo), hi);
    }
}
