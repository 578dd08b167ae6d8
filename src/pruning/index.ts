/** Blockwise magnitude pruning: masks, per-layer plan, cubic schedule, the gradual pruner. */
export * from "./block-mask.js";
export * from "./one-shot.js";
export * from "./plan.js";
export * from "./pruner.js";
export * from "./schedule.js";
