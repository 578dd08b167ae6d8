/**
 * Training checkpoints, specified in docs/checkpoint-format.md: a directory
 * holding `checkpoint.json` (what each tensor is and where its bytes are,
 * plus epoch, step, seed and backend) and `weights.bin` (float32
 * little-endian tensors back to back). Parameters, batch-norm state and
 * optimizer slots are all named, so a checkpoint restores a run exactly and
 * a later stage can pick out just the weights it needs.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { sha256Hex } from "../datasets/checksum.js";
import type { BackendIdentity } from "./backend.js";
import type { ParameterSet } from "./layers.js";
import type { Optimizer } from "./optimizers.js";

export const CHECKPOINT_MANIFEST = "checkpoint.json";
export const CHECKPOINT_WEIGHTS = "weights.bin";

export type TensorRole = "parameter" | "state" | "optimizer";

export interface CheckpointTensor {
  /** Parameter name, or `optimizer/<slot>/<parameter name>` for optimizer slots. */
  readonly name: string;
  readonly role: TensorRole;
  readonly shape: readonly number[];
  readonly dtype: "float32";
  /** Byte offset into weights.bin. */
  readonly offset: number;
  /** Byte length (4 * element count). */
  readonly length: number;
}

export interface CheckpointManifest {
  readonly format: "tinyformer-checkpoint";
  readonly version: 1;
  /** Epochs completed when the checkpoint was taken. */
  readonly epoch: number;
  /** Optimizer steps taken. */
  readonly step: number;
  readonly seed: number;
  readonly backend: BackendIdentity;
  readonly weightsFile: typeof CHECKPOINT_WEIGHTS;
  readonly weightsSha256: string;
  readonly tensors: readonly CheckpointTensor[];
  /** Free-form numbers worth keeping with the weights (loss, accuracy). */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface CheckpointContents {
  readonly manifest: CheckpointManifest;
  readonly weights: Uint8Array;
}

export interface CheckpointSource {
  readonly parameters: ParameterSet;
  readonly optimizer?: Optimizer;
  readonly epoch: number;
  readonly seed: number;
  readonly backend: BackendIdentity;
  readonly metrics?: Readonly<Record<string, number>>;
}

function namedTensors(
  source: Pick<CheckpointSource, "parameters" | "optimizer">,
): [string, TensorRole, tf.Variable][] {
  const { parameters, optimizer } = source;
  const entries: [string, TensorRole, tf.Variable][] = [];
  for (const variable of parameters.trainable)
    entries.push([parameters.nameOf(variable), "parameter", variable]);
  for (const variable of parameters.state)
    entries.push([parameters.nameOf(variable), "state", variable]);
  if (optimizer !== undefined) {
    for (const [key, variable] of optimizer.slots()) {
      const [slot, index] = key.split("/") as [string, string];
      const owner = parameters.trainable[Number(index)];
      if (owner === undefined) throw new Error(`optimizer slot ${key} has no parameter`);
      entries.push([`optimizer/${slot}/${parameters.nameOf(owner)}`, "optimizer", variable]);
    }
  }
  return entries;
}

/** Snapshots variables into checkpoint bytes (reads tensor data synchronously). */
export function computeCheckpoint(source: CheckpointSource): CheckpointContents {
  const entries = namedTensors(source);
  const tensors: CheckpointTensor[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, role, variable] of entries) {
    const values = Float32Array.from(variable.dataSync() as Float32Array);
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
    tensors.push({
      name,
      role,
      shape: variable.shape,
      dtype: "float32",
      offset,
      length: bytes.length,
    });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const weights = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    weights.set(chunk, at);
    at += chunk.length;
  }
  return {
    manifest: {
      format: "tinyformer-checkpoint",
      version: 1,
      epoch: source.epoch,
      step: source.optimizer?.iterations ?? 0,
      seed: source.seed,
      // Only the identity: callers may pass the whole TrainingBackend.
      backend: { name: source.backend.name, version: source.backend.version },
      weightsFile: CHECKPOINT_WEIGHTS,
      weightsSha256: sha256Hex(weights),
      tensors,
      metrics: source.metrics ?? {},
    },
    weights,
  };
}

/** Writes both files; the manifest goes last (via rename) so a crash never leaves a manifest without its weights. */
export async function writeCheckpoint(
  directory: string,
  contents: CheckpointContents,
): Promise<void> {
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, CHECKPOINT_WEIGHTS), contents.weights);
  const temporary = join(directory, `${CHECKPOINT_MANIFEST}.tmp`);
  await writeFile(temporary, `${JSON.stringify(contents.manifest, null, 2)}\n`);
  await rename(temporary, join(directory, CHECKPOINT_MANIFEST));
}

export async function loadCheckpoint(directory: string): Promise<CheckpointContents> {
  const manifestPath = join(directory, CHECKPOINT_MANIFEST);
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as CheckpointManifest;
  if (manifest.format !== "tinyformer-checkpoint" || manifest.version !== 1) {
    throw new Error(`${manifestPath}: not a version-1 tinyformer checkpoint`);
  }
  const weightsPath = join(directory, manifest.weightsFile);
  const weights = new Uint8Array(await readFile(weightsPath));
  const digest = sha256Hex(weights);
  if (digest !== manifest.weightsSha256) {
    throw new Error(`${weightsPath}: SHA-256 ${digest} does not match ${manifestPath}`);
  }
  return { manifest, weights };
}

/** Reads one tensor's values out of loaded checkpoint bytes. */
export function readCheckpointTensor(
  contents: CheckpointContents,
  tensor: CheckpointTensor,
): Float32Array {
  const view = new DataView(
    contents.weights.buffer,
    contents.weights.byteOffset + tensor.offset,
    tensor.length,
  );
  const values = new Float32Array(tensor.length / 4);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return values;
}

/**
 * Assigns every tensor of the checkpoint to the matching variable (and the
 * optimizer's step count). Missing or extra names and shape mismatches are
 * errors: a checkpoint belongs to exactly one network definition.
 */
export function restoreCheckpoint(
  contents: CheckpointContents,
  target: Pick<CheckpointSource, "parameters" | "optimizer">,
): void {
  const expected = new Map(
    namedTensors(target).map(([name, role, variable]) => [name, { role, variable }]),
  );
  const stored = new Map(contents.manifest.tensors.map((tensor) => [tensor.name, tensor]));
  for (const name of expected.keys()) {
    if (!stored.has(name)) throw new Error(`checkpoint has no tensor ${name}`);
  }
  for (const [name, tensor] of stored) {
    const entry = expected.get(name);
    if (entry === undefined) throw new Error(`checkpoint tensor ${name} matches no variable`);
    if (entry.variable.shape.join("x") !== tensor.shape.join("x")) {
      throw new Error(
        `checkpoint tensor ${name} has shape [${tensor.shape}], variable has [${entry.variable.shape}]`,
      );
    }
    tf.tidy(() =>
      entry.variable.assign(
        tf.tensor(readCheckpointTensor(contents, tensor), tensor.shape as number[]),
      ),
    );
  }
  target.optimizer?.setIterations(contents.manifest.step);
}
