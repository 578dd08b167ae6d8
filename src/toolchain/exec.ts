/**
 * Runs one external program to completion and returns its output. The only
 * module here that spawns processes; a timeout kills the process.
 */
import { execa } from "execa";

export interface ExecOptions {
  cwd?: string;
  /** Kill the process after this long. @default 120000 */
  timeoutMs?: number;
  /** Bytes written to standard input. */
  input?: Uint8Array | string;
}

export interface ExecResult {
  command: string;
  /** undefined when killed by a signal or the timeout. */
  exitCode: number | undefined;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export async function execTool(
  path: string,
  args: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const result = await execa(path, args, {
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 120_000,
    reject: false,
    stripFinalNewline: false,
    ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
  });
  return {
    command: [path, ...args].map(quoteArg).join(" "),
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    stdout: String(result.stdout ?? ""),
    stderr: String(result.stderr ?? ""),
  };
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
}
