/**
 * Calibration of the cost model (templates/c/cost-model.json): the set of
 * programs it measures, the samples it takes from each measurement, and the
 * fit.
 *
 * The programs are generated models, not isolated kernels: sample
 * candidates of the search space (pruned, trained-looking), copies of them
 * whose requantization was bent onto the other paths the C has (a left
 * shift, a narrow clamp), and coverage models for the kernels the search
 * space does not reach. Every pruned model is generated twice, once with
 * the dense and once with the sparse kernels, so both sides of codegen's
 * choice are measured on the same layers. Each layer is its own region in
 * the profile build, so one QEMU run gives one sample per layer; the plain
 * build's count minus the layers' gives tf_model_run's own work.
 */
import type { WeightPolicy } from "../../../src/codegen/kernel-calls.js";
import { createSeededRandom, type SeededRandom } from "../../../src/datasets/seeded-random.js";
import type { Model, OpIR } from "../../../src/model-ir/types.js";
import { layerWork, programWork } from "../../../src/resources/layer-work.js";
import {
  COST_MODEL_FORMAT,
  type CostModelTable,
  type MeasuredWith,
  WEIGHTED_VARIANTS,
} from "../../../src/sparse-engine/cost-model.js";
import { KERNEL_VARIANTS, type KernelVariant } from "../../../src/sparse-engine/kernel-variants.js";
import {
  type KernelWork,
  matrixWork,
  requantStats,
} from "../../../src/sparse-engine/kernel-work.js";
import { createCoverageModel } from "./coverage-models.js";
import { type Fit, fitCoefficients } from "./fit-coefficients.js";
import type { ModelMeasurement } from "./measure-model.js";
import { createSampleCandidate, randomCandidateSpecs } from "./sample-candidates.js";

/** One program of the calibration set: a model and how its weights are run. */
export interface CalibrationProgram {
  name: string;
  model: Model;
  weightPolicy: Exclude<WeightPolicy, "cost-model">;
}

/** Marks a bent copy's name; its data-dependent layers are not sampled (see fitCostModel). */
const BENT = "-bent";

/** Which requantization path a bent copy's layers are put on ("mixed": one at random per layer). */
export type Bend = "left" | "narrow" | "right" | "mixed";

/**
 * Bends the requantization of layers onto the paths the C has besides the
 * one the model took: one channel shifting left (the fused stores of both
 * kinds with the whole int8 range; half the time with a narrower clamp too,
 * which takes the C loop and tf_requantize), a clamp narrower than int8
 * (the clamped asm store), or
 * every channel shifting right with the whole range (the fused paths, with
 * the empty rows of a pruned layer prefilled). "mixed" bends a random
 * subset of layers, one path each. The outputs become meaningless; the
 * instruction counts are what is measured.
 */
export function perturbRequantization(model: Model, random: SeededRandom, bend: Bend): Model {
  const ops = model.graph.ops.map((op): OpIR => {
    const roll = random.next();
    const path =
      bend !== "mixed"
        ? bend
        : roll < 0.3
          ? "left"
          : roll < 0.5
            ? "narrow"
            : roll < 0.8
              ? "right"
              : "none";
    switch (op.type) {
      case "conv2d":
      case "linear": {
        if (op.int8 === undefined || path === "none") return op;
        const shift = [...op.int8.shift];
        if (path === "left") {
          shift[random.nextInt(shift.length)] = 1;
          const actMin = random.next() < 0.5 ? Math.max(op.int8.actMin, -100) : op.int8.actMin;
          return { ...op, int8: { ...op.int8, shift, actMin } };
        }
        if (path === "narrow")
          return { ...op, int8: { ...op.int8, actMin: Math.max(op.int8.actMin, -100) } };
        const right = shift.map((s) => Math.min(s, -1));
        return { ...op, int8: { ...op.int8, shift: right, actMin: -128, actMax: 127 } };
      }
      case "matmul":
        return op.int8 === undefined || path !== "left"
          ? op
          : { ...op, int8: { ...op.int8, shift: 0 } };
      case "mul":
        return op.int8 === undefined || path !== "left"
          ? op
          : { ...op, int8: { ...op.int8, shift: 0 } };
      case "add":
        return op.int8 === undefined || path !== "left"
          ? op
          : { ...op, int8: { ...op.int8, outputShift: 0 } };
      default:
        return op;
    }
  }) as OpIR[];
  return { ...model, graph: { ...model.graph, name: `${model.graph.name}${BENT}-${bend}`, ops } };
}

/** Both kernel choices of a model with pruned weights, the dense one only otherwise. */
function policiesOf(model: Model): CalibrationProgram["weightPolicy"][] {
  const pruned = model.graph.tensors.some((t) => t.data?.encoding === "block-rle");
  return pruned ? ["dense", "sparse"] : ["dense"];
}

/**
 * The calibration set from `seed`: `candidates` sample candidates, each
 * with a copy bent at random, and `coverage` coverage models, each with a
 * copy bent onto each path, all with the dense and (when pruned) the sparse
 * kernels.
 */
export async function calibrationPrograms(options: {
  seed: number;
  candidates: number;
  coverage: number;
}): Promise<CalibrationProgram[]> {
  const random = createSeededRandom(options.seed);
  const models: Model[] = [];
  for (const spec of randomCandidateSpecs(options.seed, options.candidates)) {
    const model = await createSampleCandidate(spec);
    models.push(model, perturbRequantization(model, random, "mixed"));
  }
  for (let i = 0; i < options.coverage; i++) {
    const model = createCoverageModel(options.seed * 100 + i);
    models.push(
      model,
      ...(["left", "narrow", "right"] as const).map((bend) =>
        perturbRequantization(model, random, bend),
      ),
    );
  }
  return models.flatMap((model) =>
    policiesOf(model).map((weightPolicy) => ({
      name: `${model.graph.name}-${weightPolicy}`,
      model,
      weightPolicy,
    })),
  );
}

/** One measured layer: its kernel, the work layerWork counts, the instructions it took. */
export interface LayerSample {
  kernel: KernelVariant;
  work: KernelWork;
  instructions: number;
  /** From a bent copy: its activations are not a real model's. */
  bent: boolean;
}

/** The samples of one measured program: its layers, and tf_model_run's own work. */
export function instructionSamples(measurement: ModelMeasurement): {
  layers: LayerSample[];
  program: { work: KernelWork; instructions: number };
} {
  const { program } = measurement;
  const bent = program.summary.model.includes(BENT);
  const layers = program.layers.map((layer, i) => ({
    ...layerWork(layer, program.memory),
    instructions: measurement.layerInstructions[i] as number,
    bent,
  }));
  const inLayers = measurement.layerInstructions.reduce((a, b) => a + b, 0);
  return {
    layers,
    program: { work: programWork(program.plan), instructions: measurement.instructions - inLayers },
  };
}

/** Rounds a fit's numbers for the committed table (stable diffs, no false precision). */
function rounded(fit: Fit): {
  coefficients: Record<string, number>;
  samples: number;
  maxRelativeError: number;
} {
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    coefficients: Object.fromEntries(
      Object.entries(fit.coefficients).map(([k, v]) => [k, round(v)]),
    ),
    samples: fit.samples,
    maxRelativeError: round(fit.maxRelativeError),
  };
}

/**
 * Layers below this many instructions are fitted for their absolute error
 * at this size rather than their relative error: a 10 % miss on a
 * 3,000-instruction layer is nothing in a 10-million-instruction model.
 */
const RELATIVE_FLOOR = 20_000;

/**
 * Kernels whose instruction count depends on the values, not only the
 * shapes: softmax (an exponential per element within diff_min of the row's
 * maximum, with data-dependent steps) and LayerNorm (a digit-by-digit square
 * root and a 64-bit division per row). They are fitted to the layers of
 * unbent programs only, whose activations look like a real model's.
 */
const DATA_DEPENDENT: ReadonlySet<KernelVariant> = new Set(["softmax_s8", "layernorm_s8"]);

/**
 * Every count the matrix kernels' work can have, by kernel: work of layers
 * on every path (dense and sparse, fused with right shifts only or some left
 * shifts, narrow, C loop, blocks of 1 and
 * of 4, rows left empty, im2col). The calibration set must have exercised
 * each, or an estimate of such a layer would have no coefficient for it.
 */
function requiredMatrixCounts(): Map<KernelVariant, Set<string>> {
  const required = new Map<KernelVariant, Set<string>>();
  const paths = [
    requantStats([-3], -128, 127),
    requantStats([-3], -100, 127),
    requantStats([-3, 1], -128, 127),
    requantStats([1], -100, 127),
  ];
  for (const [family, variants] of Object.entries(WEIGHTED_VARIANTS)) {
    for (const requant of paths) {
      for (const blockSize of [1, 4]) {
        const layer = {
          pixels: 5,
          outChannels: 4,
          rowLength: 9,
          requant,
          sparse: { storedBlocks: 3, blockSize, storedRows: 2 },
          ...(family === "convKxK" ? { im2colTaps: 9 } : {}),
        };
        for (const [variant, sparse] of [
          [variants.dense, false],
          [variants.sparse, true],
        ] as const) {
          const counts = required.get(variant) ?? new Set<string>();
          for (const [name, count] of Object.entries(matrixWork(layer, sparse)))
            if (count !== 0) counts.add(name);
          required.set(variant, counts);
        }
      }
    }
  }
  return required;
}

/** Fits every kernel's coefficients and tf_model_run's; fails naming a kernel or count without samples. */
export function fitCostModel(
  samples: {
    layers: readonly LayerSample[];
    programs: readonly { work: KernelWork; instructions: number }[];
  },
  measuredWith: MeasuredWith & { models: number },
): CostModelTable {
  const kernels = {} as CostModelTable["kernels"];
  const missing: string[] = [];
  for (const kernel of KERNEL_VARIANTS) {
    const mine = samples.layers.filter(
      (s) => s.kernel === kernel && s.instructions > 0 && !(s.bent && DATA_DEPENDENT.has(kernel)),
    );
    if (mine.length === 0) {
      missing.push(`tf_${kernel}`);
      continue;
    }
    kernels[kernel] = rounded(
      fitCoefficients(
        mine.map((s) => ({ counts: s.work, value: s.instructions })),
        { floor: RELATIVE_FLOOR },
      ),
    );
  }
  for (const [kernel, counts] of requiredMatrixCounts()) {
    const fitted = kernels[kernel]?.coefficients;
    if (fitted === undefined) continue;
    for (const count of counts)
      if (fitted[count] === undefined) missing.push(`the ${count} of tf_${kernel}`);
  }
  if (missing.length > 0)
    throw new Error(
      `the calibration set never exercised ${missing.join(", ")}: no coefficients can be fitted`,
    );
  const program = rounded(
    fitCoefficients(samples.programs.map((s) => ({ counts: s.work, value: s.instructions }))),
  );
  return {
    format: COST_MODEL_FORMAT,
    measuredWith: { ...measuredWith, layers: samples.layers.length },
    kernels,
    program: { coefficients: program.coefficients },
  };
}
