/**
 * The code generator, one named phase each (TinyEngine's
 * `CodeGenerator.codeGeneration` shape):
 *
 *   int8 model IR ──planModel──▶ checked model, one typed kernel call per op
 *                                (selectKernels), arena offsets (planMemory)
 *                 ──renderModel──▶ tf_model.h, tf_model.c
 *                 ──collectKernelSources──▶ the kernels used + headers
 *                 ──▶ GeneratedProgram (in-memory files + summary)
 *
 * Writing the files is separate (write.ts), so tests and stages decide
 * where they go. The same IR always gives the same bytes.
 */
import { createHash } from "node:crypto";
import { renderModelJson } from "../model-ir/io.js";
import type { Model } from "../model-ir/types.js";
import {
  type EstimateBoard,
  estimatePlanResources,
  type ResourceEstimate,
} from "../resources/estimate-resources.js";
import { type FootprintTable, loadFootprintTable } from "../resources/footprint-table.js";
import type { SelectedLayer } from "./kernel-calls.js";
import { collectKernelSources } from "./kernel-sources.js";
import { type MemoryPlan, scratchId } from "./plan-memory.js";
import { type ModelPlan, type PlanModelOptions, planModel } from "./plan-model.js";
import { renderModel } from "./render.js";
import { CODEGEN_SUMMARY_FILE } from "./summary-file.js";

/** Recorded in every banner and summary; bump when the emitted C changes. */
export const CODEGEN_VERSION = "tinyformer-codegen 3";

/** A generated file, relative to the output directory (POSIX separators). */
export interface GeneratedFile {
  path: string;
  contents: string;
}

/** Per-layer line of codegen.json. */
export interface LayerSummary {
  index: number;
  op: string;
  type: string;
  /** The C function called. */
  kernel: string;
  macs: number;
  weightBytes: number;
  scratchBytes: number;
  /** The cost model's instruction estimates, for conv / linear. */
  estimatedInstructions?: { dense: number; sparse?: number };
  /** Arena offset of the output; `inPlace` when it reuses its input's bytes. */
  outputOffset: number;
  inPlace: boolean;
}

/** One buffer of the arena plan (src/memory-planner/plan-arena.ts) in codegen.json. */
export interface ArenaBufferSummary {
  /** The tensor's name, or `scratch:<op>` for a layer's scratch. */
  id: string;
  kind: "input" | "activation" | "scratch";
  bytes: number;
  offset: number;
  /** Index of the layer that writes it (model inputs: 0). */
  firstOp: number;
  /** Index of the last layer that reads it (model outputs: the last layer). */
  lastOp: number;
  /** The buffer whose bytes it reuses in place, when it does. */
  sharesWith?: string;
}

/** codegen.json. */
export interface CodegenSummary {
  generator: string;
  model: string;
  irDigest: string;
  /** The board the code is for, and the board the cost model was measured on. */
  target: { core: string | null; dsp: boolean | null; costModelMeasuredOn: string | null };
  arena: {
    /** Bytes the generated code allocates (TF_MODEL_ARENA_SIZE). */
    bytes: number;
    /** Largest total of bytes live at one op: no plan can use less. */
    lowerBoundBytes: number;
    alignment: number;
    /** Every buffer the arena holds, in request order: the plan the offsets come from. */
    buffers: ArenaBufferSummary[];
  };
  totals: { layers: number; macs: number; weightBytes: number; sparseLayers: number };
  kernels: string[];
  layers: LayerSummary[];
  /**
   * The resource evaluator's prediction for this program (src/resources):
   * flash, SRAM and instructions per inference, per layer. Absent when
   * generated without a cost model table (while calibrating one).
   */
  estimate?: ResourceEstimate;
}

export interface GeneratedProgram {
  /** tf_model.h, tf_model.c, include/*.h, kernels/*.c, codegen.json. */
  files: GeneratedFile[];
  summary: CodegenSummary;
  /** What was rendered: kernels, arena, input and output (planModel's result). */
  plan: ModelPlan;
  layers: SelectedLayer[];
  memory: MemoryPlan;
}

export interface GenerateOptions extends PlanModelOptions {
  /**
   * The footprint table of the resource estimate written into codegen.json;
   * null: no estimate (as without a cost model table).
   * @default the shipped templates/c/footprint.json
   */
  footprint?: FootprintTable | null;
  /** The board the estimate is for (checked against the tables' board and flags). */
  board?: EstimateBoard;
  /**
   * The target's core (GCC -mcpu name) and DSP extension, recorded in the
   * summary next to the board the cost model was calibrated on (kernels pick
   * their DSP or portable path at compile time from the target's flags).
   */
  target?: { core: string; dsp: boolean };
}

/** SHA-256 of the IR: its graph JSON, which records the blob's own digest. */
export function irDigest(model: Model): string {
  return createHash("sha256").update(renderModelJson(model)).digest("hex");
}

function summarize(
  model: Model,
  digest: string,
  target: CodegenSummary["target"],
  layers: readonly SelectedLayer[],
  memory: MemoryPlan,
  kernels: string[],
): CodegenSummary {
  const shared = new Set(
    memory.plan.buffers.filter((b) => b.sharesWith !== undefined).map((b) => b.id),
  );
  const scratch = new Set(layers.map(scratchId));
  const layerLines: LayerSummary[] = layers.map((l) => ({
    index: l.index,
    op: l.op.name,
    type: l.op.type,
    kernel: `tf_${l.call.variant}`,
    macs: l.macs,
    weightBytes: l.weightBytes,
    scratchBytes: l.scratchBytes,
    ...(l.cost === undefined
      ? {}
      : {
          estimatedInstructions: {
            dense: l.cost.denseInstructions,
            ...(l.cost.sparseInstructions === undefined
              ? {}
              : { sparse: l.cost.sparseInstructions }),
          },
        }),
    outputOffset: memory.tensorOffsets.get(l.output) ?? 0,
    inPlace: shared.has(l.output),
  }));
  return {
    generator: CODEGEN_VERSION,
    model: model.graph.name,
    irDigest: digest,
    target,
    arena: {
      bytes: memory.plan.arenaBytes,
      lowerBoundBytes: memory.plan.lowerBoundBytes,
      alignment: memory.plan.alignment,
      buffers: memory.plan.buffers.map((buffer) => ({
        id: buffer.id,
        kind: scratch.has(buffer.id)
          ? "scratch"
          : model.graph.inputs.includes(buffer.id)
            ? "input"
            : "activation",
        bytes: buffer.bytes,
        offset: buffer.offset,
        firstOp: buffer.firstOp,
        lastOp: buffer.lastOp,
        ...(buffer.sharesWith === undefined ? {} : { sharesWith: buffer.sharesWith }),
      })),
    },
    totals: {
      layers: layers.length,
      macs: layers.reduce((s, l) => s + l.macs, 0),
      weightBytes: layers.reduce((s, l) => s + l.weightBytes, 0),
      sparseLayers: layers.filter((l) => l.call.variant.includes("sparse")).length,
    },
    kernels,
    layers: layerLines,
  };
}

/** Generates the C program for an int8 model, in memory. */
export async function generateModelCode(
  model: Model,
  options: GenerateOptions = {},
): Promise<GeneratedProgram> {
  const plan = planModel(model, options);
  const { input, output, layers, memory, costModel } = plan;
  const digest = irDigest(model);
  const rendered = await renderModel(layers, memory, {
    modelName: model.graph.name,
    generatorVersion: CODEGEN_VERSION,
    irDigest: digest,
    input,
    output,
  });
  const functions = [...new Set(layers.map((l) => `tf_${l.call.variant}`))].sort();
  const sources = collectKernelSources(functions);
  const target = {
    core: options.target?.core ?? null,
    dsp: options.target?.dsp ?? null,
    costModelMeasuredOn: costModel?.measuredWith.board ?? null,
  };
  const footprint =
    options.footprint === null || costModel === undefined
      ? undefined
      : (options.footprint ?? loadFootprintTable());
  const estimate =
    costModel === undefined || footprint === undefined
      ? undefined
      : estimatePlanResources(plan, {
          tables: { costModel, footprint },
          ...(options.board === undefined ? {} : { board: options.board }),
        });
  const summary = {
    ...summarize(model, digest, target, layers, memory, functions),
    ...(estimate === undefined ? {} : { estimate }),
  };
  const files: GeneratedFile[] = [
    { path: "tf_model.h", contents: rendered.header },
    { path: "tf_model.c", contents: rendered.source },
    ...sources.headers.map((h) => ({ path: `include/${h.name}`, contents: h.text })),
    ...sources.kernels.map((k) => ({ path: `kernels/${k.name}`, contents: k.text })),
    { path: CODEGEN_SUMMARY_FILE, contents: `${JSON.stringify(summary, null, 2)}\n` },
  ];
  return { files, summary, plan, layers, memory };
}
