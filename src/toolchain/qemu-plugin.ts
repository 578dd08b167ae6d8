/**
 * Builds the insn_count QEMU plugin (templates/c/qemu-plugin/insn_count.c)
 * with the host gcc on first use, into a cache directory, keyed by a digest
 * of its source so an edited plugin is rebuilt. Concurrent builders write
 * to temporary names and rename, so they never see half a library.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { qemuPluginSource } from "./c-sources.js";
import { ToolchainError } from "./errors.js";
import { execTool } from "./exec.js";
import { HOST_CC, requireTool } from "./tools.js";

/** `$XDG_CACHE_HOME/tinyformer` or `~/.cache/tinyformer`. */
export function defaultToolCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return join(base, "tinyformer");
}

const built = new Map<string, Promise<string>>();

/** Path of the compiled plugin (a shared library), building it if needed. */
export function ensureInsnCountPlugin(cacheDir: string = defaultToolCacheDir()): Promise<string> {
  let pending = built.get(cacheDir);
  if (pending === undefined) {
    pending = buildPlugin(cacheDir);
    pending.catch(() => built.delete(cacheDir));
    built.set(cacheDir, pending);
  }
  return pending;
}

async function buildPlugin(cacheDir: string): Promise<string> {
  const source = await readFile(qemuPluginSource);
  const digest = createHash("sha256").update(source).digest("hex").slice(0, 16);
  const dir = join(cacheDir, "qemu-plugin");
  const target = join(dir, `insn_count-${digest}.so`);
  if (existsSync(target)) return target;
  await mkdir(dir, { recursive: true });
  const gcc = await requireTool(HOST_CC);
  const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
  const result = await execTool(gcc, [
    "-std=c99",
    "-O2",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-shared",
    "-fPIC",
    "-fvisibility=hidden",
    qemuPluginSource,
    "-o",
    temp,
  ]);
  if (result.exitCode !== 0) {
    await rm(temp, { force: true });
    throw new ToolchainError({
      reason: "compile-failed",
      command: result.command,
      stdout: result.stdout,
      stderr: result.stderr,
    });
  }
  await rename(temp, target);
  return target;
}
