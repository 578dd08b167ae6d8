/**
 * codegen.json, the summary written beside the generated C: its name and
 * the one reader later stages need. Kept apart from the generator and the
 * verifiers so that reading it loads nothing else.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CodegenSummary } from "./generate.js";

export const CODEGEN_SUMMARY_FILE = "codegen.json";

/** Each layer's C function, from the codegen.json in `dir`. */
export async function readLayerKernels(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, CODEGEN_SUMMARY_FILE), "utf8");
  return (JSON.parse(text) as CodegenSummary).layers.map((l) => l.kernel);
}
