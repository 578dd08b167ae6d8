/**
 * The external programs the toolchain wrappers run, and the one place that
 * turns "not on PATH" into an error telling the user how to install it.
 */
import {
  type ExecutableTool,
  resolveExecutable,
  ToolMissingError,
} from "../graph-runner/tool-probe.js";

const APT_HINT =
  "Install the toolchains with `./scripts/setup.sh` (Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm).";

export const HOST_CC: ExecutableTool = {
  name: "gcc",
  command: "gcc",
  installHint: "Install a C compiler with `./scripts/setup.sh` (Debian: apt-get install gcc).",
};

export const TARGET_CC: ExecutableTool = {
  name: "arm-none-eabi-gcc",
  command: "arm-none-eabi-gcc",
  installHint: APT_HINT,
};

export const TARGET_NM: ExecutableTool = {
  name: "arm-none-eabi-nm",
  command: "arm-none-eabi-nm",
  installHint: APT_HINT,
};

export const TARGET_OBJDUMP: ExecutableTool = {
  name: "arm-none-eabi-objdump",
  command: "arm-none-eabi-objdump",
  installHint: APT_HINT,
};

export const TARGET_SIZE: ExecutableTool = {
  name: "arm-none-eabi-size",
  command: "arm-none-eabi-size",
  installHint: APT_HINT,
};

export const QEMU_SYSTEM_ARM: ExecutableTool = {
  name: "qemu-system-arm",
  command: "qemu-system-arm",
  installHint: APT_HINT,
};

/** Checks the formatting of the C sources (templates/c/.clang-format); not a pipeline tool. */
export const CLANG_FORMAT: ExecutableTool = {
  name: "clang-format",
  command: "clang-format",
  installHint: "Install it with `./scripts/setup.sh` (Debian: apt-get install clang-format).",
};

const resolved = new Map<string, Promise<string>>();

/**
 * Absolute path of a tool's executable; throws ToolMissingError (whose
 * message says how to install it) when it is not on PATH. Memoised per process.
 */
export function requireTool(tool: ExecutableTool): Promise<string> {
  let pending = resolved.get(tool.command);
  if (pending === undefined) {
    pending = resolveExecutable(tool.command).then((path) => {
      if (path === undefined) {
        throw new ToolMissingError(tool, `\`${tool.command}\` not found on PATH`);
      }
      return path;
    });
    pending.catch(() => resolved.delete(tool.command));
    resolved.set(tool.command, pending);
  }
  return pending;
}

/** What `tinyformer doctor` checks: the compilers and the emulator the pipeline runs. */
export const DOCTOR_TOOLS: readonly ExecutableTool[] = [HOST_CC, TARGET_CC, QEMU_SYSTEM_ARM];
