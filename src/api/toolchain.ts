/**
 * External tools the pipeline runs, with what to do when one is missing.
 * Stages list the ones they call; `doctor` checks them all.
 */
import type { ToolDefinition } from "../graph-runner/tool-probe.js";

const APT_HINT =
  "Install the toolchains with `./scripts/setup.sh` (Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm).";

export const HOST_GCC: ToolDefinition = {
  name: "gcc",
  command: "gcc",
  installHint: "Install a C compiler (Debian: apt-get install gcc).",
};

export const ARM_GCC: ToolDefinition = {
  name: "arm-none-eabi-gcc",
  command: "arm-none-eabi-gcc",
  installHint: APT_HINT,
};

export const QEMU_ARM: ToolDefinition = {
  name: "qemu-system-arm",
  command: "qemu-system-arm",
  installHint: APT_HINT,
};

export const TOOLCHAIN: readonly ToolDefinition[] = [HOST_GCC, ARM_GCC, QEMU_ARM];
