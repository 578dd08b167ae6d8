/**
 * The gemmlowp fixed-point transcendental helpers used by the TFLM int8
 * Softmax (`third_party/gemmlowp/fixedpoint/fixedpoint.h`:
 * `exp_on_interval_between_negative_one_quarter_and_0_excl`,
 * `exp_on_negative_values`, `one_over_one_plus_x_for_x_in_0_1`) and TFLM
 * `GetReciprocal` (`kernels/internal/common.h`). Values are raw int32s of
 * `FixedPoint<int32_t, IntegerBits>`; the integer bits are tracked by hand
 * in comments, exactly as the C++ templates do at compile time.
 */
import {
  INT32_MAX,
  saturatingRoundingDoublingHighMul as mul,
  roundingHalfSum,
  saturatingRoundingMultiplyByPOT,
  wrapInt32,
} from "./fixed-point.js";

/** exp(a) for a in [-1/4, 0), a and result in Q0.31. */
export function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const constantTerm = 1895147668; // exp(-1/8)
  const constant1Over3 = 715827883; // 1/3
  const x = wrapInt32(a + (1 << 28)); // a + 1/8
  const x2 = mul(x, x);
  const x3 = mul(x2, x);
  const x4 = mul(x2, x2);
  const x4Over4 = saturatingRoundingMultiplyByPOT(x4, -2);
  const poly = saturatingRoundingMultiplyByPOT(
    wrapInt32(mul(wrapInt32(x4Over4 + x3), constant1Over3) + x2),
    -1,
  );
  return wrapInt32(constantTerm + mul(constantTerm, wrapInt32(x + poly)));
}

/** Barrel-shifter exponents k and multipliers exp(-2^k) in Q0.31, for k = -2..4. */
const EXP_BARREL_EXPONENTS = [-2, -1, 0, 1, 2, 3, 4];
const EXP_BARREL_MULTIPLIERS = [
  1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242,
];

/**
 * gemmlowp `exp_on_negative_values` for an input with `integerBits` integer
 * bits (a <= 0); result in Q0.31.
 */
export function expOnNegativeValues(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 2 ** (fractionalBits - 2);
  const mask = oneQuarter - 1;
  const aModQuarterMinusOneQuarter = wrapInt32((a & mask) - oneQuarter);
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(
    saturatingRoundingMultiplyByPOT(aModQuarterMinusOneQuarter, integerBits), // Rescale<0>
  );
  const remainder = wrapInt32(aModQuarterMinusOneQuarter - a);
  for (let i = 0; i < 7; i++) {
    const exponent = EXP_BARREL_EXPONENTS[i] as number;
    if (integerBits > exponent && (remainder & (1 << (fractionalBits + exponent))) !== 0) {
      result = mul(result, EXP_BARREL_MULTIPLIERS[i] as number);
    }
  }
  if (integerBits > 5) {
    const clamp = -(2 ** (36 - integerBits));
    if (a < clamp) result = 0;
  }
  return a === 0 ? INT32_MAX : result;
}

/** gemmlowp `one_over_one_plus_x_for_x_in_0_1`: a in Q0.31, result in Q0.31. */
export function oneOverOnePlusXForXIn01(a: number): number {
  const halfDenominator = roundingHalfSum(a, INT32_MAX); // Q0.31
  const constant48Over17 = 1515870810; // Q2.29
  const constantNeg32Over17 = -1010580540; // Q2.29
  let x = wrapInt32(constant48Over17 + mul(halfDenominator, constantNeg32Over17)); // Q2.29
  const oneQ2 = 1 << 29;
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = mul(halfDenominator, x); // Q2.29
    const oneMinus = wrapInt32(oneQ2 - halfDenominatorTimesX); // Q2.29
    // x * oneMinus is Q4.27; Rescale<2> is a saturating left shift by 2.
    x = wrapInt32(x + saturatingRoundingMultiplyByPOT(mul(x, oneMinus), 2));
  }
  // ExactMulByPot<-1> reinterprets Q2.29 as Q1.30; Rescale<0> shifts left by 1.
  return saturatingRoundingMultiplyByPOT(x, 1);
}

/**
 * TFLM `GetReciprocal(x, x_integer_digits, &num_bits_over_unit)`: 1/x for a
 * positive fixed-point x, as a Q0.31 scale and a power-of-two correction.
 */
export function getReciprocal(
  x: number,
  xIntegerDigits: number,
): { scale: number; numBitsOverUnit: number } {
  const headroomPlusOne = Math.clz32(x);
  const numBitsOverUnit = xIntegerDigits - headroomPlusOne;
  // (uint32)x << headroom - (1 << 31), reinterpreted as int32.
  const shiftedSumMinusOne = wrapInt32((x >>> 0) * 2 ** headroomPlusOne - 2147483648);
  return { scale: oneOverOnePlusXForXIn01(shiftedSumMinusOne), numBitsOverUnit };
}
