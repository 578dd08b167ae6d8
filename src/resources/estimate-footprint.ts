/**
 * Flash and SRAM of a model's device program (what compile-target measures:
 * flash = text + rodata + data, SRAM = data + bss), from its plan:
 *
 *   flash = constant arrays (exact: the list the renderer emits)
 *         + tf_model.c's code and per-call structures (fitted per call)
 *         + every input section the runtime, tf_model_run and the kernels
 *           used keep (the union of their closures, measured)
 *   SRAM  = the arena (exact: the planner's) + the device harness's input
 *           and output buffers + the runtime's data and bss, laid out as
 *           the linker script lays them out (exact)
 */
import { type ConstArray, constArrayBytes } from "../codegen/call-args.js";
import type { ModelPlan } from "../codegen/plan-model.js";
import { product } from "../model-ir/shapes.js";
import { applyCoefficients } from "../sparse-engine/cost-model.js";
import type { KernelWork } from "../sparse-engine/kernel-work.js";
import type { FootprintTable } from "./footprint-table.js";

export interface FootprintEstimate {
  flashBytes: number;
  sramBytes: number;
  flash: {
    /** The constant arrays of tf_model.c (weights, biases, multipliers, tables, shapes). */
    constantBytes: number;
    /** tf_model_run's code and the per-call structures. */
    modelCodeBytes: number;
    /** The kernels' code and the library code they call. */
    kernelBytes: number;
    /** Start-up code, device harness and the library code they and tf_model_run call. */
    runtimeBytes: number;
  };
  sram: {
    arenaBytes: number;
    /** The device harness's input and output arrays. */
    bufferBytes: number;
    /** Everything else in .data and .bss (padding included). */
    otherBytes: number;
  };
}

/** What the fitted part of tf_model.c scales with: one count per call of each kernel. */
export function modelCodeWork(plan: Pick<ModelPlan, "layers">): KernelWork {
  const work: KernelWork = { calls: 1 };
  for (const layer of plan.layers) {
    const key = layer.call.variant;
    work[key] = (work[key] ?? 0) + 1;
    // A concat declares one structure per part.
    if (layer.call.kind === "concat")
      work.concatParts = (work.concatParts ?? 0) + layer.call.parts.length;
  }
  return work;
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** The sections the device link keeps for the model's kernels (closure union). */
function keptSections(
  plan: ModelPlan,
  table: FootprintTable,
): { runtime: Set<string>; all: Set<string> } {
  const closure = (root: string): string[] => {
    const ids = table.closures[root];
    if (ids === undefined) throw new Error(`the footprint table has no closure for ${root}`);
    return ids;
  };
  const runtime = new Set([...closure("runtime"), ...closure("tf_model_run")]);
  const all = new Set(runtime);
  for (const variant of new Set(plan.layers.map((l) => l.call.variant)))
    for (const id of closure(`tf_${variant}`)) all.add(id);
  return { runtime, all };
}

/** Flash and SRAM of the device program of `plan`, whose constant arrays are `constants`. */
export function estimateFootprint(
  plan: ModelPlan,
  constants: readonly ConstArray[],
  table: FootprintTable,
): FootprintEstimate {
  const { runtime, all } = keptSections(plan, table);
  let runtimeBytes = 0;
  let kernelBytes = 0;
  const data: { bytes: number; align: number }[] = [];
  const bss: { bytes: number; align: number }[] = [];
  for (const id of [...all].sort()) {
    const s = table.sections[id];
    if (s === undefined) throw new Error(`the footprint table has no size for ${id}`);
    if (runtime.has(id)) runtimeBytes += s.flash;
    else kernelBytes += s.flash;
    if (s.data > 0) data.push({ bytes: s.data, align: s.align });
    if (s.bss > 0) bss.push({ bytes: s.bss, align: s.align });
  }
  // .data and .bss as linker.ld.hbs lays them out: each output section
  // starts aligned and ends at a multiple of 4; .bss holds the arena
  // (tf_model.c comes first in the link), then the harness's buffers, then
  // the rest.
  const layout = (parts: readonly { bytes: number; align: number }[]) =>
    alignUp(
      parts.reduce((end, p) => alignUp(end, p.align) + p.bytes, 0),
      4,
    );
  const arenaBytes = plan.memory.plan.arenaBytes;
  const inputBytes = product(plan.input.shape);
  const outputBytes = product(plan.output.shape);
  const dataBytes = layout(data);
  const bssBytes = layout([
    { bytes: arenaBytes, align: table.buffers.arena },
    { bytes: inputBytes, align: table.buffers.input },
    { bytes: outputBytes, align: table.buffers.output },
    ...bss,
  ]);
  const constantBytes = constants.reduce((sum, c) => sum + constArrayBytes(c), 0);
  const modelCodeBytes = Math.round(
    applyCoefficients(table.modelCode.coefficients, modelCodeWork(plan), "tf_model.c's code"),
  );
  const sramBytes = dataBytes + bssBytes;
  return {
    flashBytes: constantBytes + modelCodeBytes + kernelBytes + runtimeBytes + dataBytes,
    sramBytes,
    flash: { constantBytes, modelCodeBytes, kernelBytes, runtimeBytes },
    sram: {
      arenaBytes,
      bufferBytes: inputBytes + outputBytes,
      otherBytes: sramBytes - arenaBytes - inputBytes - outputBytes,
    },
  };
}
