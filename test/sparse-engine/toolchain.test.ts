/**
 * Toolchain wrappers: linker script from the board profile (and the linker's
 * region-overflow failure that names the budget), flag normalisation, the
 * insn_count plugin's output parsing and a clear error for a missing tool.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadBoardProfile } from "../../src/config/load-board.js";
import type { BoardProfile } from "../../src/config/types.js";
import { ToolMissingError } from "../../src/graph-runner/tool-probe.js";
import { builtinBoardsDir } from "../../src/project-paths.js";
import { compileHost, compileHostObjects } from "../../src/toolchain/compile-host.js";
import { compileTarget } from "../../src/toolchain/compile-target.js";
import { parseRegionOverflows, ToolchainError } from "../../src/toolchain/errors.js";
import { execTool } from "../../src/toolchain/exec.js";
import { renderLinkerScript, resolveLinkerLayout } from "../../src/toolchain/linker-script.js";
import { ensureInsnCountPlugin } from "../../src/toolchain/qemu-plugin.js";
import { parseCounts, runQemu } from "../../src/toolchain/run-qemu.js";
import { requireTool } from "../../src/toolchain/tools.js";

describe("toolchain", () => {
  let board: BoardProfile;
  let dir: string;
  before(async () => {
    const loaded = await loadBoardProfile(join(builtinBoardsDir, "stm32f746.yaml"));
    assert.ok(loaded !== undefined);
    board = loaded;
    dir = await mkdtemp(join(tmpdir(), "tf-toolchain-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("the emulator layout puts code at QEMU's code region with the board's budgets", async () => {
    const layout = resolveLinkerLayout(board, { target: "emulator" });
    assert.equal(layout.flash.origin, 0);
    assert.equal(layout.flash.length, 1048576);
    assert.equal(layout.ram.origin, 0x20000000);
    assert.equal(layout.ram.length, 327680);
    const device = resolveLinkerLayout(board, { target: "device", reserve: true });
    assert.equal(device.flash.origin, 0x08000000);
    assert.equal(device.flash.length, 1048576 - 65536);
    const script = await renderLinkerScript(device);
    assert.match(script, /FLASH \(rx\)\s+: ORIGIN = 0x08000000, LENGTH = 983040/);
    assert.match(script, /SRAM \(rwx\) : ORIGIN = 0x20000000, LENGTH = 311296/);
  });

  test("shared sources compile once to objects that every link reuses; a bad one fails naming it", async () => {
    const srcDir = join(dir, "objects-src");
    await mkdir(join(srcDir, "a"), { recursive: true });
    await mkdir(join(srcDir, "b"), { recursive: true });
    await writeFile(join(srcDir, "a", "twice.c"), "int twice(int x) { return 2 * x; }\n");
    await writeFile(join(srcDir, "b", "twice.c"), "int thrice(int x) { return 3 * x; }\n");
    const main = join(srcDir, "main.c");
    await writeFile(
      main,
      "int twice(int);\nint thrice(int);\nint main(void) { return twice(1) + thrice(1) == 5 ? 0 : 1; }\n",
    );
    const objects = await compileHostObjects({
      sources: [join(srcDir, "a", "twice.c"), join(srcDir, "b", "twice.c")],
      outDir: join(dir, "objects"),
    });
    assert.equal(new Set(objects).size, 2, "same-named sources get distinct objects");
    for (const name of ["one", "two"]) {
      const { output } = await compileHost({ sources: [main], objects, output: join(dir, name) });
      assert.equal((await execTool(output, [])).exitCode, 0);
    }
    const bad = join(srcDir, "bad.c");
    await writeFile(bad, "int broken(void) { return }\n");
    await assert.rejects(
      compileHostObjects({ sources: [main, bad], outDir: join(dir, "objects") }),
      (e: unknown) =>
        e instanceof ToolchainError &&
        e.failure.reason === "compile-failed" &&
        e.failure.stderr.includes("bad.c"),
    );
  });

  test("GNU ld overflow messages are parsed per region", () => {
    const text =
      "ld: prog.elf section `.bss' will not fit in region `SRAM'\nld: region `SRAM' overflowed by 1024 bytes\nld: region `FLASH' overflowed by 12 bytes\n";
    assert.deepEqual(parseRegionOverflows(text), [
      { region: "SRAM", overflowBytes: 1024 },
      { region: "FLASH", overflowBytes: 12 },
    ]);
  });

  test("a program too big for SRAM or flash fails to link, naming the region", async () => {
    const src = join(dir, "big.c");
    await writeFile(
      src,
      [
        "#include <stdint.h>",
        "#ifdef BIG_RAM",
        "static volatile uint8_t big[400 * 1024];",
        "#else",
        "static volatile uint8_t big[16];",
        "#endif",
        "#ifdef BIG_FLASH",
        "static const uint8_t table[1100 * 1024] = {1};",
        "#else",
        "static const uint8_t table[16] = {1};",
        "#endif",
        "int main(void) { big[3] = table[big[0]]; return big[3] == 1 ? 0 : 1; }",
        "",
      ].join("\n"),
    );
    for (const [define, region] of [
      ["BIG_RAM", "SRAM"],
      ["BIG_FLASH", "FLASH"],
    ] as const) {
      await assert.rejects(
        compileTarget({
          board,
          sources: [src],
          defines: { [define]: 1 },
          output: join(dir, `${define}.elf`),
        }),
        (e: unknown) => {
          assert.ok(e instanceof ToolchainError);
          assert.equal(e.failure.reason, "region-overflow");
          assert.ok(
            e.failure.reason === "region-overflow" && e.failure.overflows[0]?.region === region,
          );
          assert.match(e.message, new RegExp(`${region} overflowed by \\d+ bytes`));
          return true;
        },
      );
    }
    // The same program at a normal size links and runs under QEMU (exit status 0).
    const elf = join(dir, "small.elf");
    await compileTarget({ board, sources: [src], output: elf });
    const run = await runQemu({
      elf,
      board,
      cwd: dir,
      countInstructions: true,
      pluginCacheDir: join(dir, "cache"),
    });
    assert.equal(run.exitCode, 0);
    assert.ok((run.totalInstructions ?? 0) > 100);
  });

  test("a non-zero exit status of the emulated program is an error", async () => {
    const src = join(dir, "fail.c");
    await writeFile(src, '#include <stdio.h>\nint main(void) { puts("bye"); return 7; }\n');
    const elf = join(dir, "fail.elf");
    await compileTarget({ board, sources: [src], output: elf });
    await assert.rejects(runQemu({ elf, board, cwd: dir }), (e: unknown) => {
      assert.ok(e instanceof ToolchainError && e.failure.reason === "run-failed");
      assert.equal(e.failure.exitCode, 7);
      assert.match(e.failure.stdout, /bye/);
      return true;
    });
  });

  test("host compilation treats warnings as errors and reports them", async () => {
    const src = join(dir, "warn.c");
    await writeFile(src, "int main(void) { int unused; return 0; }\n");
    await assert.rejects(
      compileHost({ sources: [src], output: join(dir, "warn") }),
      (e: unknown) => {
        assert.ok(e instanceof ToolchainError && e.failure.reason === "compile-failed");
        assert.match(e.failure.stderr, /unused/);
        return true;
      },
    );
  });

  test("the plugin is built once into the cache directory, named by its source digest", async () => {
    const cache = join(dir, "plugin-cache");
    const first = await ensureInsnCountPlugin(cache);
    assert.match(first, /qemu-plugin[/\\]insn_count-[0-9a-f]{16}\.so$/);
    assert.ok(existsSync(first));
    assert.equal(await ensureInsnCountPlugin(cache), first);
  });

  test("the plugin's output is parsed into regions and a total", () => {
    assert.deepEqual(parseCounts("12\n340\ntotal 9000\n"), { regions: [12, 340], total: 9000 });
  });

  test("a missing tool says how to install it", async () => {
    await assert.rejects(
      requireTool({
        name: "no-such-cc",
        command: "tinyformer-no-such-cc",
        installHint: "Run ./scripts/setup.sh.",
      }),
      (e: unknown) => e instanceof ToolMissingError && /setup\.sh/.test(e.message),
    );
  });
});
