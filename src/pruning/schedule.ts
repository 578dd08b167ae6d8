/**
 * Gradual pruning schedule of Zhu & Gupta ("To prune, or not to prune",
 * 2017): sparsity grows from 0 to the final target s_f over T steps as
 *
 *   s_t = s_f · (1 − (1 − t/T)^3)      for 0 ≤ t < T,   s_t = s_f for t ≥ T
 *
 * fast at first, when many weights are redundant, then slowly so the network
 * can recover as the last weights go. T = 0 means "prune at once".
 */
export function computeCubicSparsity(
  step: number,
  finalSparsity: number,
  rampSteps: number,
): number {
  if (step < 0) throw new RangeError(`step ${step}`);
  if (rampSteps <= 0 || step >= rampSteps) return finalSparsity;
  const remaining = 1 - step / rampSteps;
  return finalSparsity * (1 - remaining * remaining * remaining);
}

/** Ramp length in optimizer steps: `rampFraction` of the fine-tuning steps, rounded. */
export function computeRampSteps(rampFraction: number, totalSteps: number): number {
  return Math.round(rampFraction * totalSteps);
}
