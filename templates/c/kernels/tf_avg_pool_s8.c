/* tf_avg_pool_s8: average pooling over in-bounds taps (see tf_nn.h). */
#include "tf_nn.h"
#include "tf_nn_support.h"

tf_status tf_avg_pool_s8(int32_t pool_h, int32_t pool_w, int32_t stride_h, int32_t stride_w,
                         int32_t pad_top, int32_t pad_left, const tf_dims *input_dims,
                         const int8_t *input, const tf_dims *output_dims, int8_t *output) {
    if (input_dims == 0 || output_dims == 0 || input == 0 || output == 0 || pool_h < 1 ||
        pool_w < 1 || stride_h < 1 || stride_w < 1 || input_dims->c != output_dims->c ||
        input_dims->n != output_dims->n) {
        return TF_STATUS_ARG_ERROR;
    }
    const int32_t h = input_dims->h, w = input_dims->w, c = input_dims->c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * stride_h - pad_top;
            const int32_t ky0 = TF_MAX(0, -y0), ky1 = TF_MIN(pool_h, h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * stride_w - pad_left;
                const int32_t kx0 = TF_MAX(0, -x0), kx1 = TF_MIN(pool_w, w - x0);
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                int8_t *out = output + ((b * output_dims->h + oy) * output_dims->w + ox) * c;
                for (int32_t ch = 0; ch < c; ch++) {
                    int32_t sum = 0;
                    for (int32_t ky = ky0; ky < ky1; ky++) {
                        const int8_t *row = input + ((b * h + y0 + ky) * w + x0) * c + ch;
                        for (int32_t kx = kx0; kx < kx1; kx++) sum += row[kx * c];
                    }
                    int32_t y = 0;
                    if (count > 0) {
                        y = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    }
                    out[ch] = (int8_t)TF_MIN(TF_MAX(y, -128), 127);
                }
            }
        }
    }
    return TF_STATUS_OK;
}
