/**
 * Kernel selection: maps every op of an int8 model to one SparseEngine kernel
 * call with typed parameters (the dispatcher; CMSIS-NN's
 * `arm_convolve_wrapper_s8` plays the same role). Rendering never decides
 * anything: it only prints the calls chosen here.
 *
 * - conv2d: depthwise when `groups` equals the input channels and the weight
 *   has one input channel per group; 1x1 when the kernel is 1x1 and nothing
 *   is padded; KxK otherwise. Grouped convs other than depthwise have no
 *   kernel and fail with `UnsupportedOpError`.
 * - conv2d / linear with a block-RLE weight: dense or sparse as the cost
 *   model (`chooseWeightedKernel`) estimates cheaper (its estimate depends on
 *   the layer's requantization path, which the multipliers and clamp
 *   decide); a dense kernel gets the decoded weight. Depthwise weights are
 *   always dense.
 * - add / mul: the element-wise kernel for equal shapes, the broadcasting
 *   one (per-input strides, 0 along broadcast dimensions) otherwise.
 * - every other op maps to its one kernel; parameters come from the IR's
 *   int8 fields and the tensors' zero points (offset = -zero point).
 *
 * This module dispatches on the op type; the selectors live in
 * kernel-selection/ by family, the call types in kernel-calls.ts.
 */
import { product } from "../model-ir/shapes.js";
import type { Model, OpIR } from "../model-ir/types.js";
import type { CostModelTable } from "../sparse-engine/cost-model.js";
import { type SelectedLayer, UnsupportedOpError, type WeightPolicy } from "./kernel-calls.js";
import {
  selectConcat,
  selectPatches,
  selectReshape,
  selectTranspose,
} from "./kernel-selection/data-movement-ops.js";
import { selectActivation, selectBinary } from "./kernel-selection/elementwise-ops.js";
import { type LayerSelection, type Lookup, tensorOf } from "./kernel-selection/lookup.js";
import {
  selectAvgPool,
  selectGlobalAvgPool,
  selectLayerNorm,
  selectSoftmax,
} from "./kernel-selection/reduction-ops.js";
import { selectConv, selectLinear, selectMatMul } from "./kernel-selection/weighted-ops.js";

function selectOp(l: Lookup, op: OpIR): LayerSelection {
  switch (op.type) {
    case "conv2d":
      return selectConv(l, op);
    case "linear":
      return selectLinear(l, op);
    case "matmul":
      return selectMatMul(l, op);
    case "add":
    case "mul":
      return selectBinary(l, op);
    case "activation":
      return selectActivation(l, op);
    case "avg_pool2d":
      return selectAvgPool(l, op);
    case "global_avg_pool":
      return selectGlobalAvgPool(l, op);
    case "softmax":
      return selectSoftmax(l, op);
    case "layer_norm":
      return selectLayerNorm(l, op);
    case "transpose":
      return selectTranspose(l, op);
    case "reshape":
      return selectReshape(l, op);
    case "unfold":
    case "fold":
      return selectPatches(l, op);
    case "concat":
      return selectConcat(l, op);
    default: {
      const never: never = op;
      throw new Error(`codegen: unknown op ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Selects a kernel for every op of an int8 model, in op order. Without a
 * cost model table (calibrating a new one) the policy must be "dense" or
 * "sparse", and layers carry no cost estimates.
 */
export function selectKernels(
  model: Model,
  costModel: CostModelTable | undefined,
  policy: WeightPolicy = "cost-model",
): SelectedLayer[] {
  if (costModel === undefined && policy === "cost-model")
    throw new Error("codegen: choosing dense or sparse kernels by cost needs a cost model table");
  const l: Lookup = {
    model,
    tensors: new Map(model.graph.tensors.map((t) => [t.name, t])),
    costModel,
    policy,
  };
  return model.graph.ops.map((op, index) => {
    const output = op.outputs[0] ?? "";
    if (op.outputs.length !== 1) throw new UnsupportedOpError(op, `${op.outputs.length} outputs`);
    const selection = selectOp(l, op);
    const outTensor = tensorOf(l, output);
    if (outTensor.dtype !== "int8")
      throw new UnsupportedOpError(op, `output ${output} is ${outTensor.dtype}, not int8`);
    return { index, op, output, outputBytes: product(outTensor.shape), ...selection };
  });
}
