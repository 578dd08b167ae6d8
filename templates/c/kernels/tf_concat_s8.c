/* tf_concat_s8: concatenation along one axis, requantizing where needed (see tf_nn.h). */
#include <string.h>

#include "tf_nn.h"
#include "tf_nn_support.h"

tf_status tf_concat_s8(int32_t outer, int32_t count, const tf_concat_part *parts,
                       int32_t output_offset, int8_t *output) {
    if (outer < 0 || count < 1 || parts == 0 || output == 0) return TF_STATUS_ARG_ERROR;
    int32_t out_width = 0;
    for (int32_t p = 0; p < count; p++) {
        if (parts[p].input == 0 || parts[p].width < 0 || parts[p].input == output) {
            return TF_STATUS_ARG_ERROR;
        }
        out_width += parts[p].width;
    }
    int32_t column = 0;
    for (int32_t p = 0; p < count; p++) {
        const tf_concat_part *part = &parts[p];
        const int32_t width = part->width;
        if (!part->requantize) {
            for (int32_t o = 0; o < outer; o++) {
                memcpy(output + o * out_width + column, part->input + o * width, (size_t)width);
            }
        } else {
            const tf_requant q = tf_requant_prepare(part->multiplier, part->shift);
            for (int32_t o = 0; o < outer; o++) {
                const int8_t *src = part->input + o * width;
                int8_t *dst = output + o * out_width + column;
                for (int32_t i = 0; i < width; i++) {
                    int32_t y = tf_requant_apply(&q, src[i] + part->input_offset) + output_offset;
                    y = TF_MAX(y, -128);
                    y = TF_MIN(y, 127);
                    dst[i] = (int8_t)y;
                }
            }
        }
        column += width;
    }
    return TF_STATUS_OK;
}
