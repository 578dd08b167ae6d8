/* tf_unfold_s8: MobileViT unfold, image to patch sequences (see tf_nn.h). */
#include <string.h>

#include "tf_nn.h"

tf_status tf_unfold_s8(const tf_dims *image_dims, int32_t patch_h, int32_t patch_w,
                       const int8_t *input, int8_t *output) {
    if (image_dims == 0 || input == 0 || output == 0 || patch_h < 1 || patch_w < 1 ||
        image_dims->h % patch_h != 0 || image_dims->w % patch_w != 0 || input == output) {
        return TF_STATUS_ARG_ERROR;
    }
    const int32_t h = image_dims->h;
    const int32_t w = image_dims->w;
    const int32_t c = image_dims->c;
    const int32_t nx = w / patch_w;
    const int32_t np = (h / patch_h) * nx;
    int8_t *dst = output;
    for (int32_t b = 0; b < image_dims->n; b++) {
        for (int32_t i = 0; i < patch_h; i++) {
            for (int32_t j = 0; j < patch_w; j++) {
                for (int32_t p = 0; p < np; p++) {
                    const int32_t y = (p / nx) * patch_h + i;
                    const int32_t x = (p % nx) * patch_w + j;
                    memcpy(dst, input + ((b * h + y) * w + x) * c, (size_t)c);
                    dst += c;
                }
            }
        }
    }
    return TF_STATUS_OK;
}
