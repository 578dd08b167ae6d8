/**
 * Identity of the external tools a stage runs (compilers, emulators), for
 * cache keys. Spawning `gcc --version` on every build would cost a no-op
 * build tens of milliseconds per tool, so identities are memoised by the
 * resolved executable's stat; a reinstalled tool changes its stat and is
 * probed again.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, readFile, realpath, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { writeFileAtomic } from "./atomic-write.js";

/** An external program, identified by the first line its version command prints. */
export interface ExecutableTool {
  kind?: "executable";
  /** Name used in fingerprints and messages, e.g. `arm-none-eabi-gcc`. */
  name: string;
  /** Executable looked up on PATH (or an absolute path). */
  command: string;
  /** Arguments that print the version. @default ["--version"] */
  versionArgs?: readonly string[];
  /** Shown when the tool is missing: how to install it. */
  installHint: string;
}

/**
 * Something that is not a program but changes results the same way, such as
 * the machine-learning backend a training stage will run on. Probing may be
 * expensive (loading a library), so its answer is memoised by the stat of
 * `stampFiles`: files that change whenever the answer may.
 */
export interface ProbedTool {
  kind: "probe";
  name: string;
  /** Absolute paths (missing ones count too); a change to any of them re-probes. */
  stampFiles(): readonly string[];
  /** Text that also re-probes when it changes (e.g. a revision constant of our own code). */
  stampText?: string;
  /** The identity string, e.g. `wasm@4.22.0+simd`. Throws ToolMissingError when unavailable. */
  probe(): Promise<string>;
  installHint: string;
}

export type ToolDefinition = ExecutableTool | ProbedTool;

export interface ToolIdentity {
  name: string;
  /** Absolute path of the executable that will run. */
  path: string;
  /** First non-empty line of the version output. */
  version: string;
}

export class ToolMissingError extends Error {
  readonly tool: ToolDefinition;
  constructor(tool: ToolDefinition, detail: string) {
    super(`${tool.name} is not available (${detail}). ${tool.installHint}`);
    this.name = "ToolMissingError";
    this.tool = tool;
  }
}

interface MemoEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  /** Probed tools: the stat of their stamp files when probed. */
  stamp?: string;
  version: string;
}

export class ToolProbe {
  readonly #memoFile: string | undefined;
  #memo: Record<string, MemoEntry> | undefined;
  #dirty = false;
  readonly #inProcess = new Map<string, Promise<ToolIdentity>>();

  /** `memoFile` undefined: probe every time (no cache directory yet). */
  constructor(memoFile: string | undefined) {
    this.#memoFile = memoFile;
  }

  identify(tool: ToolDefinition): Promise<ToolIdentity> {
    const key =
      tool.kind === "probe"
        ? probeKey(tool)
        : `${tool.command}\0${(tool.versionArgs ?? ["--version"]).join("\0")}`;
    let pending = this.#inProcess.get(key);
    if (pending === undefined) {
      pending = tool.kind === "probe" ? this.#identifyProbed(tool) : this.#identify(tool);
      this.#inProcess.set(key, pending);
      pending.catch(() => this.#inProcess.delete(key));
    }
    return pending;
  }

  async #identifyProbed(tool: ProbedTool): Promise<ToolIdentity> {
    const stamp = `${(
      await Promise.all(
        tool.stampFiles().map(async (file) => {
          const info = await stat(file).catch(() => undefined);
          return info === undefined
            ? `${file}:absent`
            : `${file}:${info.size}:${info.mtimeMs}:${info.ino}`;
        }),
      )
    ).join("\n")}\n${tool.stampText ?? ""}`;
    const memo = await this.#loadMemo();
    const memoKey = probeKey(tool);
    const known = memo[memoKey];
    if (known !== undefined && known.stamp === stamp) {
      return { name: tool.name, path: tool.name, version: known.version };
    }
    const version = await tool.probe();
    memo[memoKey] = { size: 0, mtimeMs: 0, ino: 0, stamp, version };
    this.#dirty = true;
    return { name: tool.name, path: tool.name, version };
  }

  async #identify(tool: ExecutableTool): Promise<ToolIdentity> {
    const path = await resolveExecutable(tool.command);
    if (path === undefined)
      throw new ToolMissingError(tool, `\`${tool.command}\` not found on PATH`);
    const info = await stat(path);
    const memo = await this.#loadMemo();
    const memoKey = `${path}\0${(tool.versionArgs ?? ["--version"]).join("\0")}`;
    const known = memo[memoKey];
    if (
      known !== undefined &&
      known.size === info.size &&
      known.mtimeMs === info.mtimeMs &&
      known.ino === info.ino
    ) {
      return { name: tool.name, path, version: known.version };
    }
    const version = await runVersionCommand(tool, path);
    memo[memoKey] = { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, version };
    this.#dirty = true;
    return { name: tool.name, path, version };
  }

  async #loadMemo(): Promise<Record<string, MemoEntry>> {
    if (this.#memo !== undefined) return this.#memo;
    this.#memo = {};
    if (this.#memoFile !== undefined) {
      try {
        this.#memo = JSON.parse(await readFile(this.#memoFile, "utf8")) as Record<
          string,
          MemoEntry
        >;
      } catch {
        // Absent or corrupt: probing again is cheap enough.
      }
    }
    return this.#memo;
  }

  async save(): Promise<void> {
    if (!this.#dirty || this.#memoFile === undefined || this.#memo === undefined) return;
    await writeFileAtomic(this.#memoFile, JSON.stringify(this.#memo));
    this.#dirty = false;
  }
}

/** Like `which`: the real path of the first executable match on PATH. */
export async function resolveExecutable(command: string): Promise<string | undefined> {
  const candidates = isAbsolute(command)
    ? [command]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter((dir) => dir !== "")
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      const info = await stat(candidate);
      if (info.isFile()) return await realpath(candidate);
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

function runVersionCommand(tool: ExecutableTool, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      [...(tool.versionArgs ?? ["--version"])],
      { timeout: 20_000, encoding: "utf8" },
      (error, stdout, stderr) => {
        const line = `${stdout}\n${stderr}`
          .split("\n")
          .map((l) => l.trim())
          .find((l) => l !== "");
        if (line === undefined) {
          reject(new ToolMissingError(tool, `\`${path}\` printed no version: ${error?.message}`));
        } else {
          resolve(line);
        }
      },
    );
  });
}

/**
 * One probed tool may be declared differently by different stages (the ML
 * backend with and without data-parallel workers): its stamp text tells the
 * variants apart, in this process and in the memo, so no stage takes
 * another's identity and the variants do not evict each other.
 */
function probeKey(tool: ProbedTool): string {
  return `probe\0${tool.name}\0${tool.stampText ?? ""}`;
}
