/* tf_reshape_s8: a reshape moves no bytes; copy only between distinct buffers. */
#include <string.h>

#include "tf_nn.h"

tf_status tf_reshape_s8(int32_t size, const int8_t *input, int8_t *output) {
    if (size < 0 || input == 0 || output == 0) return TF_STATUS_ARG_ERROR;
    if (input != output) memmove(output, input, (size_t)size);
    return TF_STATUS_OK;
}
