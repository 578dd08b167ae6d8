/**
 * Host verification (rung 2 of the verification ladder): the generated C,
 * compiled for the host with the harness templates/c/model/tf_model_host.c,
 * must produce the reference interpreter's bytes on every input. On a
 * mismatch, a second build with -DTF_MODEL_DEBUG dumps every layer's output
 * for the failing input, and the first layer whose bytes differ from the
 * interpreter's dump is named.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runInt8 } from "../interpreter/index.js";
import { product } from "../model-ir/shapes.js";
import type { Model } from "../model-ir/types.js";
import { compileHost } from "../toolchain/compile-host.js";
import { ToolchainError } from "../toolchain/errors.js";
import { execTool } from "../toolchain/exec.js";
import {
  describeLayerDifference,
  firstDifference,
  firstDifferingLayer,
  type LayerDifference,
} from "./layer-trace.js";
import { modelTemplatesDir } from "./render.js";
import { readLayerKernels } from "./summary-file.js";
import type { WrittenProgram } from "./write.js";

export const hostHarnessSource = join(modelTemplatesDir, "tf_model_host.c");

export interface HostBuildOptions {
  /** -DTF_MODEL_DEBUG: the harness can write every layer's output. @default false */
  debug?: boolean;
  /** -fsanitize=address,undefined. @default false */
  sanitize?: boolean;
}

/** Compiles the generated program with the host harness into `output`. */
export async function buildHostHarness(
  program: WrittenProgram,
  output: string,
  options: HostBuildOptions = {},
): Promise<string> {
  const result = await compileHost({
    sources: [...program.sources, hostHarnessSource],
    objects: program.objects ?? [],
    includeDirs: program.includeDirs,
    defines: options.debug ? { TF_MODEL_DEBUG: undefined } : {},
    output,
    sanitize: options.sanitize ?? false,
  });
  return result.output;
}

export interface HostRun {
  /** One output per input. */
  outputs: Int8Array[];
  /** The debug build's per-input trace (every layer's output, back to back). */
  traces?: Uint8Array;
}

/** Runs the harness on `inputs` (each `inputSize` bytes) in `workDir`. */
export async function runHostHarness(
  executable: string,
  inputs: readonly Int8Array[],
  outputSize: number,
  workDir: string,
  options: { trace?: boolean; timeoutMs?: number } = {},
): Promise<HostRun> {
  await mkdir(workDir, { recursive: true });
  const inputsPath = join(workDir, "inputs.bin");
  const outputsPath = join(workDir, "outputs.bin");
  const tracePath = join(workDir, "trace.bin");
  const joined = new Uint8Array(inputs.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of inputs) {
    joined.set(new Uint8Array(x.buffer, x.byteOffset, x.length), at);
    at += x.length;
  }
  await writeFile(inputsPath, joined);
  const args = ["run", inputsPath, outputsPath, ...(options.trace ? [tracePath] : [])];
  const r = await execTool(executable, args, { cwd: workDir, timeoutMs: options.timeoutMs });
  if (r.timedOut) {
    throw new ToolchainError({
      reason: "timeout",
      timeoutMs: options.timeoutMs ?? 120_000,
      command: r.command,
      stdout: r.stdout,
      stderr: r.stderr,
    });
  }
  if (r.exitCode !== 0) {
    throw new ToolchainError({
      reason: "run-failed",
      exitCode: r.exitCode,
      command: r.command,
      stdout: r.stdout,
      stderr: r.stderr,
    });
  }
  const bytes = await readFile(outputsPath);
  if (bytes.length !== inputs.length * outputSize) {
    throw new Error(
      `host harness wrote ${bytes.length} bytes for ${inputs.length} outputs of ${outputSize}`,
    );
  }
  const outputs = inputs.map((_, i) =>
    new Int8Array(bytes.buffer, bytes.byteOffset + i * outputSize, outputSize).slice(),
  );
  return options.trace
    ? { outputs, traces: new Uint8Array(await readFile(tracePath)) }
    : { outputs };
}

/** Where the host output first differs from the interpreter's. */
export interface HostMismatch {
  /** Index of the first input whose output differs. */
  input: number;
  /** First differing output byte, and the two values. */
  byte: number;
  expected: number;
  actual: number;
  /** The first layer whose output differs (from the debug build's trace). */
  layer?: LayerDifference;
  message: string;
}

export interface HostVerification {
  inputs: number;
  /** undefined when every output equals the interpreter's byte for byte. */
  mismatch?: HostMismatch;
}

export interface VerifyHostOptions {
  model: Model;
  inputs: readonly Int8Array[];
  /** Scratch directory for executables and data files. */
  workDir: string;
  /**
   * The written program: builds the harnesses that are not given, and its
   * codegen.json names each layer's kernel in the diagnosis.
   */
  program?: WrittenProgram;
  /** A release build of the harness (buildHostHarness); built from `program` when absent. */
  executable?: string;
  /** A -DTF_MODEL_DEBUG build, used only on a mismatch; built from `program` when absent. */
  debugExecutable?: string;
  /** The C function of each layer, for the diagnosis; read from `program` when absent. */
  layerKernels?: readonly string[];
  /** Build with sanitizers (when building). @default false */
  sanitize?: boolean;
}

function requireProgram(options: VerifyHostOptions, what: string): WrittenProgram {
  if (options.program === undefined)
    throw new Error(`verifyHost needs the program to build ${what}`);
  return options.program;
}

/**
 * Runs the generated program on every input and compares it with runInt8;
 * on a mismatch, finds the first differing layer with a debug build.
 */
export async function verifyHost(options: VerifyHostOptions): Promise<HostVerification> {
  const { model, inputs, workDir } = options;
  const outputSize = outputSizeOf(model);
  const executable =
    options.executable ??
    (await buildHostHarness(
      requireProgram(options, "the harness"),
      join(workDir, "tf_model_host"),
      {
        sanitize: options.sanitize ?? false,
      },
    ));
  const { outputs } = await runHostHarness(executable, inputs, outputSize, join(workDir, "run"));
  for (let i = 0; i < inputs.length; i++) {
    const expected = runInt8(model, inputs[i] as Int8Array).outputs[0] as Int8Array;
    const actual = outputs[i] as Int8Array;
    const byte = firstDifference(expected, actual);
    if (byte < 0) continue;
    const mismatch: HostMismatch = {
      input: i,
      byte,
      expected: expected[byte] ?? 0,
      actual: actual[byte] ?? 0,
      message: "",
    };
    const debug =
      options.debugExecutable ??
      (await buildHostHarness(
        requireProgram(options, "the debug harness"),
        join(workDir, "tf_model_host_debug"),
        { debug: true },
      ));
    const kernels =
      options.layerKernels ??
      (options.program === undefined ? [] : await readLayerKernels(options.program.dir));
    const layer = await findFirstDifferingLayer(
      model,
      debug,
      kernels,
      inputs[i] as Int8Array,
      workDir,
    );
    if (layer !== undefined) mismatch.layer = layer;
    mismatch.message =
      `host output differs from the interpreter on input ${i} at byte ${byte} ` +
      `(expected ${mismatch.expected}, got ${mismatch.actual})` +
      describeLayerDifference(layer);
    return { inputs: inputs.length, mismatch };
  }
  return { inputs: inputs.length };
}

function outputSizeOf(model: Model): number {
  const outTensor = model.graph.tensors.find((t) => t.name === model.graph.outputs[0]);
  if (outTensor === undefined) throw new Error("model has no output tensor");
  return product(outTensor.shape);
}

async function findFirstDifferingLayer(
  model: Model,
  debugExecutable: string,
  kernels: readonly string[],
  input: Int8Array,
  workDir: string,
): Promise<LayerDifference | undefined> {
  const run = await runHostHarness(
    debugExecutable,
    [input],
    outputSizeOf(model),
    join(workDir, "debug"),
    { trace: true },
  );
  return firstDifferingLayer(model, input, run.traces ?? new Uint8Array(), kernels);
}
