/** Supernet training and evaluation helpers (loads tfjs: import inside a running stage). */

export { runDistillationStep } from "./distillation-step.js";
export {
  countParameters,
  countRegionParameters,
  withRestoredState,
  withRestoredStateAsync,
  withRestoredVariables,
} from "./parameter-state.js";
export { recalibrateBatchNorm } from "./recalibrate.js";
export { selectRecalibrationImages } from "./recalibration-images.js";
export { createUpdateMasks } from "./region-masks.js";
export { chooseSandwich } from "./sandwich-choices.js";
export { runSandwichStep } from "./sandwich-step.js";
