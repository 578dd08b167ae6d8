/* tf_lut_s8: 256-entry table activation (see tf_nn.h). */
#include "tf_nn.h"

tf_status tf_lut_s8(int32_t size, const int8_t *input, const int8_t *table, int8_t *output) {
    if (size < 0 || input == 0 || table == 0 || output == 0) return TF_STATUS_ARG_ERROR;
    for (int32_t i = 0; i < size; i++) output[i] = table[(uint8_t)input[i]];
    return TF_STATUS_OK;
}
