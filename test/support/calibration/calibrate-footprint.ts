/**
 * Calibration of the footprint table (footprint-table.ts) with the board's
 * compiler and flags:
 *
 * - closures: one link per root with the device linker script and
 *   --gc-sections, holding only the objects of interest and keeping only
 *   the root (`--undefined`; references to other roots left unresolved):
 *   the map file lists exactly the input sections that root keeps;
 * - buffer alignments: from the objects of tf_model.c and the device
 *   harness (objdump);
 * - model code: tf_model.c's kept sections in each calibration program's
 *   device link, less its constant arrays, fitted per kernel call.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { buildLayerCalls, CTYPE_BYTES } from "../../../src/codegen/call-args.js";
import type { ModelPlan } from "../../../src/codegen/plan-model.js";
import type { BoardProfile } from "../../../src/config/types.js";
import { modelCodeWork } from "../../../src/resources/estimate-footprint.js";
import type { FootprintTable, SectionFootprint } from "../../../src/resources/footprint-table.js";
import { KERNEL_VARIANTS } from "../../../src/sparse-engine/kernel-variants.js";
import { deviceHarness, targetStartupSources } from "../../../src/toolchain/c-sources.js";
import {
  compileTargetObjects,
  TARGET_BARE_LDFLAGS,
  TARGET_CFLAGS,
} from "../../../src/toolchain/compile-target.js";
import { ToolchainError } from "../../../src/toolchain/errors.js";
import { execTool } from "../../../src/toolchain/exec.js";
import { FLASH_SECTIONS } from "../../../src/toolchain/footprint.js";
import { type KeptSection, parseLinkMap } from "../../../src/toolchain/link-map.js";
import { renderLinkerScript, resolveLinkerLayout } from "../../../src/toolchain/linker-script.js";
import { DEVICE_LAYOUT, modelIncludeDirs } from "../../../src/toolchain/model-programs.js";
import { requireTool, TARGET_CC, TARGET_OBJDUMP } from "../../../src/toolchain/tools.js";
import type { FitSample } from "./fit-coefficients.js";

/** `libgcc.a(_udivsi3.o)` or `tf_add_s8.o`: a kept section's file without its directory. */
export function fileName(path: string): string {
  const member = /^(.*)\(([^)]+)\)$/.exec(path);
  return member === null ? basename(path) : `${basename(member[1] as string)}(${member[2]})`;
}

const sectionId = (s: KeptSection): string => `${fileName(s.file)}:${s.name}`;

/** Where a kept section's bytes go, by the output section the linker put it in. */
function placement(s: KeptSection): Omit<SectionFootprint, "align"> | undefined {
  if (FLASH_SECTIONS.has(s.output)) return { flash: s.bytes, data: 0, bss: 0 };
  if (s.output === ".data") return { flash: 0, data: s.bytes, bss: 0 };
  if (s.output === ".bss") return { flash: 0, data: 0, bss: s.bytes };
  return undefined; // debug information, comments: not loaded
}

/** Sizes and alignments of the sections of objects and archives (`objdump -h`), by section id. */
export async function readObjectSections(
  paths: readonly string[],
): Promise<Map<string, { bytes: number; align: number }>> {
  const objdump = await requireTool(TARGET_OBJDUMP);
  const sections = new Map<string, { bytes: number; align: number }>();
  for (const path of paths) {
    const r = await execTool(objdump, ["-h", path]);
    if (r.exitCode !== 0) {
      const { command, stdout, stderr, exitCode } = r;
      throw new ToolchainError({ reason: "run-failed", exitCode, command, stdout, stderr });
    }
    const archive = path.endsWith(".a") ? basename(path) : undefined;
    let file = basename(path);
    for (const line of r.stdout.split("\n")) {
      const header = /^(\S+):\s+file format/.exec(line);
      if (header !== null) {
        file = archive === undefined ? basename(header[1] as string) : `${archive}(${header[1]})`;
        continue;
      }
      // "Idx Name Size VMA LMA File-off Algn", e.g. "  2 .text.tf_lut_s8 0000002c ... 2**2"
      const section =
        /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+2\*\*(\d+)/.exec(line);
      if (section !== null)
        sections.set(`${file}:${section[1]}`, {
          bytes: Number.parseInt(section[2] as string, 16),
          align: 2 ** Number(section[3]),
        });
    }
  }
  return sections;
}

export interface ClosureLink {
  board: BoardProfile;
  /** The objects linked (nothing else: no start-up code unless listed). */
  objects: readonly string[];
  /** Symbols kept as roots (besides the script's entry, when linked). */
  roots: readonly string[];
  /** Working directory (created). */
  dir: string;
}

/** The input sections one closure link keeps. */
export async function linkClosure(link: ClosureLink): Promise<KeptSection[]> {
  await mkdir(link.dir, { recursive: true });
  const gcc = await requireTool(TARGET_CC);
  const script = join(link.dir, "device.ld");
  await writeFile(script, await renderLinkerScript(resolveLinkerLayout(link.board, DEVICE_LAYOUT)));
  const map = join(link.dir, "closure.map");
  const r = await execTool(gcc, [
    ...link.board.compiler.cflags,
    ...TARGET_CFLAGS,
    ...TARGET_BARE_LDFLAGS,
    `-T${script}`,
    ...link.board.compiler.ldflags,
    // Other roots' symbols stay undefined: only this root's closure is linked.
    "-Wl,--unresolved-symbols=ignore-all",
    ...link.roots.map((root) => `-Wl,--undefined=${root}`),
    `-Wl,-Map=${map}`,
    ...link.objects,
    "-o",
    join(link.dir, "closure.elf"),
  ]);
  if (r.exitCode !== 0) {
    const { command, stdout, stderr } = r;
    throw new ToolchainError({ reason: "compile-failed", command, stdout, stderr });
  }
  return parseLinkMap(await readFile(map, "utf8"));
}

/** The archives a closure's sections came from, for their alignments. */
function archivesOf(sections: readonly KeptSection[]): string[] {
  return [
    ...new Set(
      sections
        .map((s) => /^(.*\.a)\(/.exec(s.file)?.[1])
        .filter((p): p is string => p !== undefined),
    ),
  ];
}

export interface ClosureMeasurement {
  sections: FootprintTable["sections"];
  closures: FootprintTable["closures"];
  buffers: FootprintTable["buffers"];
}

/**
 * Every root's closure and the buffers' alignments. `kernels` are the
 * kernel library's objects (compileKernelLibrary), `codegenDir` any
 * generated program (its tf_model.c and tf_model.h stand for all: what a
 * closure keeps does not depend on the model).
 */
export async function measureClosures(options: {
  board: BoardProfile;
  kernels: ReadonlyMap<string, string>;
  codegenDir: string;
  dir: string;
}): Promise<ClosureMeasurement> {
  const { board, dir } = options;
  const [startup, device, model] = await compileTargetObjects({
    board,
    sources: [...targetStartupSources, deviceHarness, join(options.codegenDir, "tf_model.c")],
    includeDirs: modelIncludeDirs(options.codegenDir),
    runtime: "bare",
    outDir: join(dir, "objects"),
  });
  if (startup === undefined || device === undefined || model === undefined)
    throw new Error("compiling the runtime objects returned too few objects");
  const kernelObjects = [...options.kernels.values()];
  const links: { root: string; objects: string[]; roots: string[] }[] = [
    { root: "runtime", objects: [startup, device], roots: [] },
    { root: "tf_model_run", objects: [model], roots: ["tf_model_run"] },
    ...KERNEL_VARIANTS.map((v) => ({
      root: `tf_${v}`,
      objects: kernelObjects,
      roots: [`tf_${v}`],
    })),
  ];
  const kept = new Map<string, KeptSection[]>();
  for (const [i, link] of links.entries()) {
    const sections = await linkClosure({
      board,
      objects: link.objects,
      roots: link.roots,
      dir: join(dir, `closure-${i}`),
    });
    kept.set(link.root, sections);
  }
  const all = [...kept.values()].flat();
  const objectSections = await readObjectSections([
    startup,
    device,
    model,
    ...kernelObjects,
    ...archivesOf(all),
  ]);
  const sections: FootprintTable["sections"] = {};
  const closures: FootprintTable["closures"] = {};
  const deviceFile = basename(device);
  const modelFile = basename(model);
  for (const [root, list] of kept) {
    const ids: string[] = [];
    for (const s of list) {
      const where = placement(s);
      if (where === undefined) continue;
      const file = fileName(s.file);
      // tf_model.c's own sections are the model's (counted from the plan);
      // the harness's buffers depend on the model's input and output.
      if (file === modelFile) continue;
      if (file === deviceFile && where.flash === 0) continue;
      const id = sectionId(s);
      sections[id] = { ...where, align: objectSections.get(id)?.align ?? 1 };
      ids.push(id);
    }
    closures[root] = [...new Set(ids)].sort();
  }
  const align = (id: string, fallback: string) =>
    (objectSections.get(id) ?? objectSections.get(fallback))?.align;
  const arena = align(`${modelFile}:.bss.tf_arena`, `${modelFile}:.bss`);
  const input = align(`${deviceFile}:.bss.input`, `${deviceFile}:.bss`);
  const output = align(`${deviceFile}:.bss.output`, `${deviceFile}:.bss`);
  if (arena === undefined || input === undefined || output === undefined)
    throw new Error("the arena's or the device harness's buffers have no .bss section to align");
  return { sections, closures, buffers: { arena, input, output } };
}

/**
 * tf_model.c's bytes in one program's device link besides its constant
 * arrays: the model-code fit's sample. Checks that the constant arrays
 * the linker kept are, byte for byte, the ones the renderer's list says.
 */
export function modelCodeSample(plan: ModelPlan, deviceMap: string): FitSample {
  const kept = parseLinkMap(deviceMap);
  const file = kept.find((s) => s.name === ".text.tf_model_run")?.file;
  if (file === undefined) throw new Error("the device link kept no tf_model_run");
  const mine = kept.filter((s) => s.file === file && FLASH_SECTIONS.has(s.output));
  const constants = buildLayerCalls(plan.layers, plan.memory).flatMap((call) => call.constants);
  const expected = new Map(
    constants.map((c) => [`.rodata.${c.name}`, c.length * CTYPE_BYTES[c.ctype]]),
  );
  // With -fdata-sections every array is its own section: check each.
  for (const s of mine) {
    const bytes = expected.get(s.name);
    if (bytes !== undefined && bytes !== s.bytes)
      throw new Error(`${s.name}: the linker kept ${s.bytes} bytes, the renderer emits ${bytes}`);
  }
  const constantBytes = [...expected.values()].reduce((a, b) => a + b, 0);
  const total = mine.reduce((sum, s) => sum + s.bytes, 0);
  return { counts: modelCodeWork(plan), value: total - constantBytes };
}
