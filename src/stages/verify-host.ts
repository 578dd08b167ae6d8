/**
 * The `verify-host` stage: runs the host build from `compile-host` on the
 * first `verification.host_images` test images (normalised with
 * `dataset.normalization` and quantized as the quantize stage does) and
 * requires its output bytes to equal the reference interpreter's. On a
 * mismatch the debug build names the first layer whose output differs, and
 * the stage fails with that message.
 *
 * Inputs:  dataset (test split, or validation), quantize/model-int8.*,
 *          compile-host executables
 * Outputs: verify-host.json ({ images, split, equal: true, outputBytes })
 */
import { chmod, copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CODEGEN_SUMMARY } from "./codegen.js";
import { HOST_DEBUG_EXECUTABLE, HOST_EXECUTABLE } from "./compile-host.js";
import type { StageFactory } from "./index.js";
import { loadVerificationInputs } from "./verification-inputs.js";

export const VERIFY_HOST_REPORT = "verify-host.json";

export interface VerifyHostReport {
  images: number;
  split: string;
  /** Always true in a written report: a mismatch fails the stage. */
  equal: true;
  /** Output bytes compared per image. */
  outputBytes: number;
}

export const createVerifyHostStage: StageFactory = () => ({
  implementation: import.meta.url,
  configKeys: ["verification.host_images", "dataset.normalization"],
  async run(context) {
    const { readLayerKernels, verifyHost } = await import("../codegen/index.js");
    const { model, split, inputs } = await loadVerificationInputs(
      context,
      context.config["verification.host_images"] as number,
    );
    const count = inputs.length;

    // Cached outputs are read-only and not executable: run private copies.
    const compiled = context.upstream.get("compile-host");
    if (compiled === undefined) throw new Error("verify-host needs the compile-host outputs");
    const bin = join(context.scratchDir, "bin");
    await mkdir(bin, { recursive: true });
    const runnable = async (name: string): Promise<string> => {
      const path = join(bin, name);
      await copyFile(compiled.path(name), path);
      await chmod(path, 0o755);
      return path;
    };
    const codegenDir = join(context.scratchDir, "codegen");
    await mkdir(codegenDir, { recursive: true });
    await copyFile(compiled.path(CODEGEN_SUMMARY), join(codegenDir, CODEGEN_SUMMARY));

    context.progress(`running ${count} ${split} images on the host build`);
    const result = await verifyHost({
      model,
      inputs,
      workDir: join(context.scratchDir, "work"),
      executable: await runnable(HOST_EXECUTABLE),
      debugExecutable: await runnable(HOST_DEBUG_EXECUTABLE),
      layerKernels: await readLayerKernels(codegenDir),
    });
    if (result.mismatch !== undefined) throw new Error(result.mismatch.message);
    const output = model.graph.tensors.find((t) => t.name === model.graph.outputs[0]);
    const report: VerifyHostReport = {
      images: count,
      split,
      equal: true,
      outputBytes: (output?.shape ?? []).reduce((a, b) => a * b, 1),
    };
    await writeFile(
      join(context.outDir, VERIFY_HOST_REPORT),
      `${JSON.stringify(report, null, 2)}\n`,
    );
    context.progress(`${count} ${split} images: host output equals the interpreter byte for byte`);
  },
});
