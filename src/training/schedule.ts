/**
 * Learning-rate schedule: linear warm-up from 0, then a cosine decay to
 * `minLearningRate` at the last step. Warm-up keeps the first steps from
 * blowing up batch-norm statistics of a freshly initialised network; cosine
 * is what the paper's training recipes (and most NAS supernet training) use.
 */
export interface CosineScheduleOptions {
  readonly baseLearningRate: number;
  readonly totalSteps: number;
  /** @default 0 */
  readonly warmupSteps?: number;
  /** @default 0 */
  readonly minLearningRate?: number;
}

/** Learning rate for optimiser step `step` (0-based). */
export function computeLearningRate(step: number, options: CosineScheduleOptions): number {
  const { baseLearningRate, totalSteps } = options;
  const warmup = options.warmupSteps ?? 0;
  const floor = options.minLearningRate ?? 0;
  if (step < warmup) return (baseLearningRate * (step + 1)) / warmup;
  const decaySteps = Math.max(1, totalSteps - warmup);
  const progress = Math.min(1, (step - warmup) / decaySteps);
  return floor + 0.5 * (baseLearningRate - floor) * (1 + Math.cos(Math.PI * progress));
}
