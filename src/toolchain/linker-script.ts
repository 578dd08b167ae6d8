/**
 * Linker script for a board: resolve the memory regions from the profile
 * (pure), then render templates/c/harness/linker.ld.hbs.
 *
 * Two maps:
 * - "emulator": flash placed at the emulator's code region (QEMU mps2-an500
 *   boots from 0x0), RAM at the emulator's RAM origin, but both *lengths*
 *   are the real board's, so a program that runs under QEMU also fits the
 *   board and one that does not fit fails to link;
 * - "device": the board's own map (STM32F746: flash 0x08000000, SRAM
 *   0x20000000).
 * The lengths are the board's full sizes minus its `reserved_bytes` only
 * when `reserve` is set (the reserve is room left for the user's own
 * application; a test harness *is* the application). With `stackInReserve`
 * the stack starts at the board's real end of SRAM, inside that reserve, as
 * the device image needs: no stack section counts against the budget.
 */
import { readFile } from "node:fs/promises";
import type { BoardProfile } from "../config/types.js";
import { linkerScriptTemplate } from "./c-sources.js";

export interface LinkerRegion {
  /** Name in the script and in the linker's overflow message. */
  name: "FLASH" | "SRAM";
  origin: number;
  length: number;
  /** One line for the script's header comment. */
  description: string;
}

export interface LinkerLayout {
  board: string;
  target: "emulator" | "device";
  flash: LinkerRegion;
  ram: LinkerRegion;
  /** Stack reserved at the top of RAM (counts against the SRAM budget). */
  stackBytes: number;
  /** Heap for newlib (stdio buffers of the semihosting harness). */
  heapBytes: number;
  /** Initial stack pointer at a fixed address (the end of the board's SRAM), or 0: after the stack section. */
  stackTop: number;
}

export interface LinkerLayoutOptions {
  target: "emulator" | "device";
  /** Subtract the profile's reserved_bytes from both budgets. @default false */
  reserve?: boolean;
  /** @default 8192 */
  stackBytes?: number;
  /** @default 16384 */
  heapBytes?: number;
  /**
   * The stack lives in the reserve: the initial stack pointer is the end of
   * the board's SRAM and the script reserves no stack (device map with
   * `reserve` only). @default false
   */
  stackInReserve?: boolean;
}

export function resolveLinkerLayout(
  board: BoardProfile,
  options: LinkerLayoutOptions,
): LinkerLayout {
  const { flash, sram } = board.memory;
  const reserve = options.reserve ?? false;
  const flashLength = flash.size_bytes - (reserve ? flash.reserved_bytes : 0);
  const ramLength = sram.size_bytes - (reserve ? sram.reserved_bytes : 0);
  const emulator = options.target === "emulator";
  const flashOrigin = emulator ? board.emulator.code.origin : flash.origin;
  const ramOrigin = emulator ? board.emulator.ram.origin : sram.origin;
  if (emulator && flashLength > board.emulator.code.size_bytes) {
    throw new Error(`board ${board.name}: flash budget exceeds the emulator's code region`);
  }
  if (emulator && ramLength > board.emulator.ram.size_bytes) {
    throw new Error(`board ${board.name}: SRAM budget exceeds the emulator's RAM region`);
  }
  const budget = reserve ? "budget after the reserve" : "full size";
  const stackInReserve = options.stackInReserve ?? false;
  if (stackInReserve && (emulator || !reserve || (options.stackBytes ?? 0) !== 0)) {
    throw new Error("stackInReserve needs the device map, reserve, and stackBytes 0");
  }
  return {
    board: board.name,
    target: options.target,
    flash: {
      name: "FLASH",
      origin: flashOrigin,
      length: flashLength,
      description: `${flashLength} bytes (${board.name} flash ${budget})${emulator ? ` placed at the emulator's code region` : ""}`,
    },
    ram: {
      name: "SRAM",
      origin: ramOrigin,
      length: ramLength,
      description: `${ramLength} bytes (${board.name} SRAM ${budget})`,
    },
    stackBytes: stackInReserve ? 0 : (options.stackBytes ?? 8192),
    heapBytes: options.heapBytes ?? 16384,
    stackTop: stackInReserve ? sram.origin + sram.size_bytes : 0,
  };
}

/** Renders the linker script text for a resolved layout. */
export async function renderLinkerScript(layout: LinkerLayout): Promise<string> {
  const { default: Handlebars } = await import("handlebars");
  const hb = Handlebars.create();
  hb.registerHelper("hex", (n: unknown) => `0x${Number(n).toString(16).padStart(8, "0")}`);
  const template = hb.compile(await readFile(linkerScriptTemplate, "utf8"), {
    noEscape: true,
    strict: true,
  });
  return template(layout);
}
