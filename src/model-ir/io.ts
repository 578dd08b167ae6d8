/**
 * Reading and writing a model as two files: `<stem>.json` (the graph) and
 * `<stem>.bin` (the blob). The only module of the IR that touches the disk.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Model } from "./types.js";
import { type ValidationResult, validateModel } from "./validate.js";

/** File names of a model stored under `stem` (a path without extension). */
export function modelFiles(stem: string): { graph: string; blob: string } {
  return { graph: `${stem}.json`, blob: `${stem}.bin` };
}

/** Loads and validates `<stem>.json` + `<stem>.bin`. */
export async function loadModel(stem: string): Promise<ValidationResult> {
  const files = modelFiles(stem);
  const [text, blob] = await Promise.all([readFile(files.graph, "utf8"), readFile(files.blob)]);
  return validateModel(
    JSON.parse(text) as unknown,
    new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength),
  );
}

/** Renders the graph as deterministic JSON text (stable key order from construction). */
export function renderModelJson(model: Model): string {
  return `${JSON.stringify(model.graph, null, 2)}\n`;
}

/** Writes `<stem>.json` and `<stem>.bin`. */
export async function writeModel(stem: string, model: Model): Promise<void> {
  const files = modelFiles(stem);
  await Promise.all([
    writeFile(files.graph, renderModelJson(model)),
    writeFile(files.blob, model.blob),
  ]);
}
