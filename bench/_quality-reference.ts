/**
 * The PyTorch reference of `bench/train-quality.ts`: whether it can run
 * (Debian's python3-torch, never a test or CI dependency) and what its
 * output says. The parser is separate so a test can pin it without PyTorch.
 */
import { spawn, spawnSync } from "node:child_process";

/** Debian's interpreter, the one python3-torch installs into. */
export const REFERENCE_PYTHON = "/usr/bin/python3";

export interface ReferenceResult {
  /** Validation accuracy after each epoch (fractions). */
  readonly validation: number[];
  readonly finalValidation: number;
  readonly finalTest: number;
}

/** Whether `python` imports torch (a missing interpreter or package is just "no"). */
export function torchAvailable(python = REFERENCE_PYTHON): boolean {
  const probe = spawnSync(python, ["-c", "import torch"], { stdio: "ignore" });
  return probe.status === 0;
}

/**
 * Reads quality.py's output: `epoch K: validation A (T s)` per epoch, then
 * `final: validation A test B (T s)`. Throws on output without the final
 * line, or with epochs missing or out of order.
 */
export function parseReferenceOutput(text: string): ReferenceResult {
  const validation: number[] = [];
  let final: { validation: number; test: number } | undefined;
  for (const line of text.split("\n")) {
    const epoch = /^epoch (\d+): validation ([0-9.]+)/.exec(line);
    if (epoch !== null) {
      if (Number(epoch[1]) !== validation.length + 1)
        throw new Error(`reference output: epoch ${epoch[1]} after ${validation.length} epochs`);
      validation.push(Number(epoch[2]));
      continue;
    }
    const last = /^final: validation ([0-9.]+) test ([0-9.]+)/.exec(line);
    if (last !== null) final = { validation: Number(last[1]), test: Number(last[2]) };
  }
  if (final === undefined) throw new Error(`reference output has no final line:\n${text}`);
  return { validation, finalValidation: final.validation, finalTest: final.test };
}

/**
 * Runs `quality.py DATA THREADS EPOCHS`; progress lines are echoed to
 * stderr with a prefix as they arrive.
 */
export function runReference(options: {
  script: string;
  dataDirectory: string;
  threads: number;
  epochs: number;
  python?: string;
}): Promise<ReferenceResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      options.python ?? REFERENCE_PYTHON,
      [options.script, options.dataDirectory, String(options.threads), String(options.epochs)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      for (const line of chunk.split("\n"))
        if (line !== "") process.stderr.write(`reference: ${line}\n`);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`${options.script} exited with ${code}:\n${err}`));
      else {
        try {
          resolve(parseReferenceOutput(out));
        } catch (error) {
          reject(error);
        }
      }
    });
  });
}
