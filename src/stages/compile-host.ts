/**
 * The `compile-host` stage: compiles the generated C from `codegen` with the
 * host harness (templates/c/model/tf_model_host.c) using gcc -std=c99 -O2
 * -Wall -Wextra -Werror, twice: a release build, and a -DTF_MODEL_DEBUG build
 * that writes every layer's output (verify-host uses it to name the first
 * differing layer). The kernels are compiled once and linked into both.
 *
 * Inputs:  codegen outputs; templates/c/model (the harness)
 * Outputs: tf_model_host, tf_model_host_debug (executables), codegen.json
 *          (copied, so verify-host can name kernels)
 */
import { copyFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { cTemplatesDir } from "../toolchain/c-sources.js";
import { HOST_CC } from "../toolchain/tools.js";
import { CODEGEN_SUMMARY, linkUpstream } from "./codegen.js";
import type { StageFactory } from "./index.js";

export const HOST_EXECUTABLE = "tf_model_host";
export const HOST_DEBUG_EXECUTABLE = "tf_model_host_debug";

export const createCompileHostStage: StageFactory = () => ({
  implementation: import.meta.url,
  configKeys: [],
  fileInputs: () => [join(cTemplatesDir, "model", "tf_model_host.c")],
  tools: [HOST_CC],
  async run(context) {
    const [{ buildHostHarness }, { compileHostObjects }] = await Promise.all([
      import("../codegen/index.js"),
      import("../toolchain/compile-host.js"),
    ]);
    const dir = await linkUpstream(context, "codegen");
    const kernels = (await readdir(join(dir, "kernels"))).filter((f) => f.endsWith(".c")).sort();
    const includeDirs = [dir, join(dir, "include")];
    // The kernels are the same in both builds: compiled once, linked twice.
    const objects = await compileHostObjects({
      sources: kernels.map((k) => join(dir, "kernels", k)),
      includeDirs,
      outDir: join(context.scratchDir, "objects"),
    });
    const program = { dir, sources: [join(dir, "tf_model.c")], includeDirs, objects };
    await buildHostHarness(program, join(context.outDir, HOST_EXECUTABLE));
    await buildHostHarness(program, join(context.outDir, HOST_DEBUG_EXECUTABLE), { debug: true });
    await copyFile(join(dir, CODEGEN_SUMMARY), join(context.outDir, CODEGEN_SUMMARY));
    context.progress(`compiled ${kernels.length} kernel sources and the model for the host`);
  },
});
