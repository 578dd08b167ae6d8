/**
 * Where the hand-written C shipped with TinyFormer lives (templates/c):
 * the kernel library, its headers, the bare-metal harness and the QEMU plugin.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { templatesDir } from "../project-paths.js";

export const cTemplatesDir = join(templatesDir, "c");
/** tf_nn.h (the stable kernel API) and tf_nn_support.h (inline helpers). */
export const kernelIncludeDir = join(cTemplatesDir, "include");
/** One kernel per file, `tf_<op>[_<variant>]_s8.c`. */
export const kernelSourceDir = join(cTemplatesDir, "kernels");
/** Start-up code, region markers and the linker-script template. */
export const harnessDir = join(cTemplatesDir, "harness");
export const qemuPluginSource = join(cTemplatesDir, "qemu-plugin", "insn_count.c");
export const linkerScriptTemplate = join(harnessDir, "linker.ld.hbs");
/** The model harnesses: one inference on the board; inferences under QEMU. */
export const deviceHarness = join(cTemplatesDir, "model", "tf_model_device.c");
export const targetHarness = join(cTemplatesDir, "model", "tf_model_target.c");

/** Bare-metal start-up files a target program links with (not for the host). */
export const targetStartupSources: readonly string[] = [join(harnessDir, "tf_startup.c")];
/** Region markers for instruction counting (host and target). */
export const markerSources: readonly string[] = [join(harnessDir, "tf_markers.c")];

/** Every kernel source, sorted; unused ones cost nothing with --gc-sections. */
export function listKernelSources(): string[] {
  return readdirSync(kernelSourceDir)
    .filter((f) => f.endsWith(".c"))
    .sort()
    .map((f) => join(kernelSourceDir, f));
}
