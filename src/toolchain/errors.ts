/**
 * Failures of the toolchain wrappers. Expected failures (a compile error, a
 * program too big for the board, an emulator run that fails) are thrown as a
 * ToolchainError whose `failure` is a discriminated union, so callers can
 * switch on `failure.reason` and report the details. A missing tool is a
 * ToolMissingError from src/graph-runner/tool-probe.ts.
 */

/** Program text and what the tool said, for every process failure. */
interface ProcessOutput {
  /** The command line, for the user to rerun by hand. */
  command: string;
  stdout: string;
  stderr: string;
}

export type ToolchainFailure =
  /** gcc rejected the sources (errors, or warnings under -Werror). */
  | ({ reason: "compile-failed" } & ProcessOutput)
  /**
   * The linked program does not fit a memory region of the board; `region`
   * is the linker script's region name (FLASH or SRAM), `overflowBytes` how
   * much is missing. One entry per region the linker reported.
   */
  | ({
      reason: "region-overflow";
      overflows: Array<{ region: string; overflowBytes: number }>;
    } & ProcessOutput)
  /** The program ran but exited non-zero (or was killed). */
  | ({ reason: "run-failed"; exitCode: number | undefined } & ProcessOutput)
  /** The program did not finish within the time limit. */
  | ({ reason: "timeout"; timeoutMs: number } & ProcessOutput);

export class ToolchainError extends Error {
  readonly failure: ToolchainFailure;
  constructor(failure: ToolchainFailure) {
    super(describeFailure(failure));
    this.name = "ToolchainError";
    this.failure = failure;
  }
}

function describeFailure(f: ToolchainFailure): string {
  const tail = (s: string) => s.trim().split("\n").slice(-20).join("\n");
  switch (f.reason) {
    case "compile-failed":
      return `compilation failed: ${f.command}\n${tail(f.stderr)}`;
    case "region-overflow":
      return `program does not fit the board: ${f.overflows
        .map((o) => `${o.region} overflowed by ${o.overflowBytes} bytes`)
        .join(", ")}`;
    case "run-failed":
      return `program exited with ${f.exitCode ?? "a signal"}: ${f.command}\n${tail(f.stderr)}`;
    case "timeout":
      return `program did not finish within ${f.timeoutMs} ms: ${f.command}`;
    default:
      return unreachable(f);
  }
}

function unreachable(x: never): never {
  throw new Error(`unhandled toolchain failure ${JSON.stringify(x)}`);
}

/**
 * Parses GNU ld's "region `SRAM' overflowed by 1234 bytes" lines.
 * Returns an empty list when there are none.
 */
export function parseRegionOverflows(
  linkerOutput: string,
): Array<{ region: string; overflowBytes: number }> {
  const found = new Map<string, number>();
  for (const m of linkerOutput.matchAll(/region [`']([^'`]+)' overflowed by (\d+) bytes?/g)) {
    const region = m[1] as string;
    const bytes = Number(m[2]);
    found.set(region, Math.max(found.get(region) ?? 0, bytes));
  }
  return [...found].map(([region, overflowBytes]) => ({ region, overflowBytes }));
}
