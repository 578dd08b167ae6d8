/**
 * The footprint table (templates/c/footprint.json): what the device program
 * of a generated model links besides its constant arrays and its arena,
 * measured with the board's compiler and flags by
 * `npm run bench -- calibrate-resources` (test/support/calibration/calibrate-footprint.ts).
 *
 * The device link keeps, with --gc-sections, exactly the input sections
 * reachable from its roots, and reachability from several roots is the
 * union of each root's. So the table lists, per root (the start-up code
 * and device harness, tf_model_run's library calls, each public kernel),
 * the input sections it keeps (its own, its helper kernels', the C and gcc
 * libraries'), and their bytes once: a model's kernels give the union.
 * tf_model_run's own code and the per-call structures tf_model.c declares
 * are fitted per kernel call (`modelCode`); the constant arrays and the
 * arena are counted exactly from the plan.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { templatesDir } from "../project-paths.js";
import type { MeasuredWith } from "../sparse-engine/cost-model.js";
import { KERNEL_VARIANTS } from "../sparse-engine/kernel-variants.js";

export const FOOTPRINT_FORMAT = "tinyformer-footprint-1";

/** One input section: its bytes by where they go. */
export interface SectionFootprint {
  /** Code, read-only data and unwind tables: flash only. */
  flash: number;
  /** Initialised data: in SRAM, with its initial values in flash. */
  data: number;
  /** Zero-initialised data: SRAM only. */
  bss: number;
  /** Its alignment (for laying out data and bss exactly). */
  align: number;
}

export interface FootprintTable {
  format: typeof FOOTPRINT_FORMAT;
  measuredWith: MeasuredWith & {
    /** The board's linker flags (with --gc-sections the closures below hold). */
    ldflags: string[];
    /** Calibration programs the model-code fit used. */
    models: number;
  };
  /** Every input section some root keeps, by `file(section)`. */
  sections: Record<string, SectionFootprint>;
  /**
   * The sections each root keeps: "runtime" (start-up code and the device
   * harness, its buffers excepted), "tf_model_run" (the C library calls of
   * the generated code), and "tf_<variant>" per public kernel.
   */
  closures: Record<string, string[]>;
  /**
   * Bytes of tf_model.c besides its constant arrays and arena: tf_model_run
   * itself and the structures each call declares, per call of each kernel
   * (and per concatenated part).
   */
  modelCode: { coefficients: Record<string, number>; samples: number; maxRelativeError: number };
  /**
   * Alignments of the statically allocated buffers: the arena
   * (TF_MODEL_ALIGN in tf_model.c) and the device harness's input and
   * output arrays, as the compiler placed them.
   */
  buffers: { arena: number; input: number; output: number };
}

export const FOOTPRINT_FILE = join(templatesDir, "c", "footprint.json");

const RECALIBRATE = "regenerate it with npm run bench -- calibrate-resources";

/** The committed table (templates/c/footprint.json), checked for every root codegen can link. */
export function loadFootprintTable(file: string = FOOTPRINT_FILE): FootprintTable {
  const table = JSON.parse(readFileSync(file, "utf8")) as FootprintTable;
  if (table.format !== FOOTPRINT_FORMAT)
    throw new Error(
      `${file}: not a footprint table of format ${FOOTPRINT_FORMAT} (${RECALIBRATE})`,
    );
  const roots = ["runtime", "tf_model_run", ...KERNEL_VARIANTS.map((v) => `tf_${v}`)];
  for (const root of roots) {
    const closure = table.closures?.[root];
    if (closure === undefined) throw new Error(`${file}: no closure for ${root} (${RECALIBRATE})`);
    for (const id of closure)
      if (table.sections[id] === undefined)
        throw new Error(`${file}: ${root} keeps ${id}, which has no size (${RECALIBRATE})`);
  }
  if (table.modelCode?.coefficients === undefined || table.buffers === undefined)
    throw new Error(`${file}: no model code coefficients or buffer alignments (${RECALIBRATE})`);
  return table;
}
