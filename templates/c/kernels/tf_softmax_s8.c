/*
 * tf_softmax_s8: TFLM int8 Softmax (reference_ops::Softmax for int8 in and
 * out, CMSIS-NN arm_softmax_s8), bit-exact with src/int8/softmax.ts and the
 * gemmlowp fixed-point helpers of src/int8/gemmlowp.ts.
 *
 * The exponential depends only on the difference between a value and its
 * row's maximum, an integer in [-255, 0]. The call computes it once for each
 * difference within diff_min into the caller's scratch (at most 256 words),
 * then both passes over every row look it up: the same values the fixed-point
 * routine gives, at a table lookup per element instead of two evaluations.
 */
#include "tf_nn.h"
#include "tf_nn_support.h"

#define TF_SOFTMAX_ACCUM_BITS 12
#define TF_SOFTMAX_DIFF_BITS 5

/* exp(a) for a in [-1/4, 0), Q0.31 in and out. */
static int32_t exp_on_interval_neg_quarter_to_0(int32_t a) {
    const int32_t constant_term = 1895147668; /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;
    const int32_t x = tf_add_wrap(a, 1 << 28);
    const int32_t x2 = tf_srdhm(x, x);
    const int32_t x3 = tf_srdhm(x2, x);
    const int32_t x4 = tf_srdhm(x2, x2);
    const int32_t x4_over_4 = tf_saturating_rounding_mul_by_pot(x4, -2);
    const int32_t poly = tf_saturating_rounding_mul_by_pot(
        tf_add_wrap(tf_srdhm(tf_add_wrap(x4_over_4, x3), constant_1_over_3), x2), -1);
    return tf_add_wrap(constant_term, tf_srdhm(constant_term, tf_add_wrap(x, poly)));
}

/* gemmlowp exp_on_negative_values for TF_SOFTMAX_DIFF_BITS integer bits; Q0.31 result. */
static int32_t exp_on_negative_values(int32_t a) {
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535,   720401,     242};
    const int32_t integer_bits = TF_SOFTMAX_DIFF_BITS;
    const int32_t fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = 1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = tf_add_wrap(a & mask, -one_quarter);
    int32_t result = exp_on_interval_neg_quarter_to_0(
        tf_saturating_rounding_mul_by_pot(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = tf_add_wrap(a_mod_quarter_minus_one_quarter, -a);
    for (int32_t i = 0; i < 7; i++) {
        const int32_t exponent = i - 2;
        if (integer_bits > exponent &&
            (remainder & (int32_t)(1u << (fractional_bits + exponent))) != 0) {
            result = tf_srdhm(result, multipliers[i]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* gemmlowp RoundingHalfSum for int32. */
static int32_t rounding_half_sum(int32_t a, int32_t b) {
    const int64_t sum = (int64_t)a + b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 in and out. */
static int32_t one_over_one_plus_x(int32_t a) {
    const int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    const int32_t constant_48_over_17 = 1515870810;
    const int32_t constant_neg_32_over_17 = -1010580540;
    int32_t x =
        tf_add_wrap(constant_48_over_17, tf_srdhm(half_denominator, constant_neg_32_over_17));
    for (int32_t i = 0; i < 3; i++) {
        const int32_t half_denominator_times_x = tf_srdhm(half_denominator, x);
        const int32_t one_minus = tf_add_wrap(1 << 29, -half_denominator_times_x);
        x = tf_add_wrap(x, tf_saturating_rounding_mul_by_pot(tf_srdhm(x, one_minus), 2));
    }
    return tf_saturating_rounding_mul_by_pot(x, 1);
}

static int32_t count_leading_zeros(uint32_t x) {
    int32_t n = 0;
    if (x == 0) return 32;
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        n++;
    }
    return n;
}

/* Differences from the row maximum a call can meet within diff_min: 0, -1, ... */
static int32_t table_entries(int32_t diff_min) {
    return diff_min >= 0 ? 1 : TF_MIN(256, 1 - diff_min);
}

int32_t tf_softmax_s8_get_buffer_size(int32_t diff_min) {
    return table_entries(diff_min) * (int32_t)sizeof(int32_t);
}

tf_status tf_softmax_s8(const tf_context *ctx, int32_t rows, int32_t depth,
                        int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min,
                        const int8_t *input, int8_t *output) {
    const int32_t entries = table_entries(diff_min);
    if (rows < 0 || depth < 1 || depth > 256 || input == 0 || output == 0 || input_left_shift < 0 ||
        input_left_shift > 31 || ctx == 0 || ctx->buf == 0 ||
        ctx->size < entries * (int32_t)sizeof(int32_t)) {
        return TF_STATUS_ARG_ERROR;
    }
    /* exps[k]: the exponential of the difference -k (Q0.31). */
    int32_t *exps = (int32_t *)ctx->buf;
    for (int32_t k = 0; k < entries; k++) {
        const int32_t rescaled =
            tf_srdhm((int32_t)((uint32_t)(-k) << input_left_shift), input_multiplier);
        exps[k] = exp_on_negative_values(rescaled);
    }
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + r * depth;
        int8_t *y = output + r * depth;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < depth; c++) max_in_row = TF_MAX(max_in_row, x[c]);
        int32_t sum_of_exps = 0;
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = x[c] - max_in_row;
            if (diff >= diff_min) {
                sum_of_exps = tf_add_wrap(
                    sum_of_exps, tf_rounding_divide_by_pot(exps[-diff], TF_SOFTMAX_ACCUM_BITS));
            }
        }
        /* GetReciprocal(sum_of_exps, 12): sum_of_exps >= 2^19 > 0. */
        const int32_t headroom = count_leading_zeros((uint32_t)sum_of_exps);
        const int32_t num_bits_over_unit = TF_SOFTMAX_ACCUM_BITS - headroom;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom) - 0x80000000u);
        const int32_t scale = one_over_one_plus_x(shifted_sum_minus_one);
        const int32_t out_shift = num_bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = x[c] - max_in_row;
            int32_t v = -128;
            if (diff >= diff_min) {
                v = tf_rounding_divide_by_pot(tf_srdhm(scale, exps[-diff]), out_shift) - 128;
                v = TF_MIN(TF_MAX(v, -128), 127);
            }
            y[c] = (int8_t)v;
        }
    }
    return TF_STATUS_OK;
}
