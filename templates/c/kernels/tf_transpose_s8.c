/*
 * tf_transpose_s8: general permutation of up to 6 dimensions (see tf_nn.h).
 * Walks the output in order with an odometer over the output index, adding
 * the matching input stride, so there is no division per element.
 */
#include "tf_nn.h"

#define TF_TRANSPOSE_MAX_RANK 6

tf_status tf_transpose_s8(int32_t rank, const int32_t *shape, const int32_t *perm,
                          const int8_t *input, int8_t *output) {
    if (rank < 1 || rank > TF_TRANSPOSE_MAX_RANK || shape == 0 || perm == 0 || input == 0 ||
        output == 0) {
        return TF_STATUS_ARG_ERROR;
    }
    int32_t in_stride[TF_TRANSPOSE_MAX_RANK];
    int32_t out_shape[TF_TRANSPOSE_MAX_RANK];
    int32_t stride[TF_TRANSPOSE_MAX_RANK]; /* input stride of output dimension d */
    int32_t index[TF_TRANSPOSE_MAX_RANK];
    int32_t seen = 0;
    int32_t total = 1;
    for (int32_t d = rank - 1; d >= 0; d--) {
        if (shape[d] < 0) return TF_STATUS_ARG_ERROR;
        in_stride[d] = total;
        total *= shape[d];
    }
    for (int32_t d = 0; d < rank; d++) {
        const int32_t p = perm[d];
        if (p < 0 || p >= rank || (seen & (1 << p))) return TF_STATUS_ARG_ERROR;
        seen |= 1 << p;
        out_shape[d] = shape[p];
        stride[d] = in_stride[p];
        index[d] = 0;
    }
    int32_t offset = 0;
    for (int32_t i = 0; i < total; i++) {
        output[i] = input[offset];
        for (int32_t d = rank - 1; d >= 0; d--) {
            offset += stride[d];
            if (++index[d] < out_shape[d]) break;
            offset -= stride[d] * out_shape[d];
            index[d] = 0;
        }
    }
    return TF_STATUS_OK;
}
