/**
 * The public kernels of templates/c/kernels a generated model calls: the C
 * function is `tf_<variant>`, its file `tf_<variant>.c`. Codegen picks one
 * per layer (src/codegen/select-kernels.ts); the cost model has one set of
 * coefficients per variant, so a variant missing from its table is caught
 * when the table is loaded.
 */
export const KERNEL_VARIANTS = [
  "conv_1x1_s8",
  "conv_1x1_sparse_s8",
  "conv_kxk_s8",
  "conv_kxk_sparse_s8",
  "depthwise_conv_s8",
  "linear_s8",
  "linear_sparse_s8",
  "batch_matmul_s8",
  "add_s8",
  "mul_s8",
  "add_broadcast_s8",
  "mul_broadcast_s8",
  "lut_s8",
  "avg_pool_s8",
  "global_avg_pool_s8",
  "softmax_s8",
  "layernorm_s8",
  "transpose_s8",
  "reshape_s8",
  "unfold_s8",
  "fold_s8",
  "concat_s8",
] as const;

export type KernelVariant = (typeof KERNEL_VARIANTS)[number];
