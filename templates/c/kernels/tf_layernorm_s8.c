/*
 * tf_layernorm_s8: integer LayerNorm ("Scaled-LayerNorm"), the exact steps of
 * docs/model-ir.md section 5.8 and src/int8/layernorm.ts. Per row:
 *   S = sum x, Q = sum x^2, W = C*Q - S^2 + epsQ (int64), r = isqrt(W),
 *   L = bit length of r, m = (2^(29+L) + (r >> 1)) / r,
 *   n_i = requant(C*x_i - S, m, 18 - L), acc_i = gamma_i * n_i + beta_i,
 *   y_i = clamp(zp_out + requant(acc_i, M_i, shift_i), -128, 127).
 */
#include "tf_nn.h"
#include "tf_nn_support.h"

#define TF_LAYERNORM_FRACTION_BITS 16

/* Floor square root of a 64-bit value (digit-by-digit, no floating point). */
static uint32_t isqrt64(uint64_t v) {
    uint64_t result = 0;
    uint64_t bit = (uint64_t)1 << 62;
    while (bit > v) bit >>= 2;
    while (bit != 0) {
        if (v >= result + bit) {
            v -= result + bit;
            result = (result >> 1) + bit;
        } else {
            result >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)result;
}

tf_status tf_layernorm_s8(int32_t rows, int32_t channels, int64_t eps_q, const int8_t *gamma,
                          const int32_t *beta, const int32_t *multiplier, const int32_t *shift,
                          int32_t output_offset, const int8_t *input, int8_t *output) {
    if (rows < 0 || channels < 1 || channels > 4096 || eps_q < 1 || eps_q > ((int64_t)1 << 40) ||
        gamma == 0 || beta == 0 || multiplier == 0 || shift == 0 || input == 0 || output == 0) {
        return TF_STATUS_ARG_ERROR;
    }
    for (int32_t row = 0; row < rows; row++) {
        const int8_t *x = input + row * channels;
        int8_t *y = output + row * channels;
        int32_t s = 0, q = 0;
        for (int32_t i = 0; i < channels; i++) {
            s += x[i];
            q += x[i] * x[i];
        }
        const int64_t w = (int64_t)channels * q - (int64_t)s * s + eps_q;
        const uint32_t r = isqrt64((uint64_t)w);
        int32_t bit_length = 0;
        while (bit_length < 32 && (r >> bit_length) != 0) bit_length++;
        const int32_t m = (int32_t)((((uint64_t)1 << (29 + bit_length)) + (r >> 1)) / (uint64_t)r);
        const int32_t n_shift = TF_LAYERNORM_FRACTION_BITS + 2 - bit_length;
        for (int32_t i = 0; i < channels; i++) {
            const int32_t d = channels * x[i] - s;
            const int32_t n = tf_requantize(d, m, n_shift);
            const int32_t acc = tf_add_wrap((int32_t)((uint32_t)gamma[i] * (uint32_t)n), beta[i]);
            const int32_t v = output_offset + tf_requantize(acc, multiplier[i], shift[i]);
            y[i] = (int8_t)TF_MIN(TF_MAX(v, -128), 127);
        }
    }
    return TF_STATUS_OK;
}
