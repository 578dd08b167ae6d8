/**
 * Controllable stages for runner tests: each logs its invocations to a file
 * (so counts survive across processes), can sleep (abortably), fail, and
 * writes an output derived from everything it read, or a constant one to
 * exercise early cutoff.
 */
import { appendFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StageDefinition } from "../../src/graph-runner/stage.js";

export interface FakeStageSpec {
  name: string;
  upstream?: string[];
  configKeys?: string[];
  /** Workspace-relative files or directories. */
  inputs?: string[];
  /** Sleep this long inside run (aborts early on cancellation). */
  delayMs?: number;
  /** `derived` (default): output depends on all inputs. `constant`: always the same bytes. */
  output?: "derived" | "constant";
  /** Throw after the delay. */
  fail?: boolean;
  /** Returned by describeMissingInput. */
  missingHint?: string;
  /** Write a partial output file before sleeping (to prove it never reaches the cache). */
  writePartialFirst?: boolean;
  /** Also write log.txt, which changes with the configuration. */
  writeLog?: boolean;
  /** Passed on as the stage's `upstreamOutputs`. */
  upstreamOutputs?: Record<string, string[]>;
  /** Count 1..total `unit`s, `everyMs` apart (progress bars), before the delay. */
  counter?: { total: number; unit: string; everyMs: number };
}

export interface FakePipelineSpec {
  stages: FakeStageSpec[];
  /** Each invocation appends `<stage>\n` here. */
  logFile: string;
}

export function createFakeStages(spec: FakePipelineSpec): StageDefinition[] {
  return spec.stages.map(
    (stage): StageDefinition => ({
      name: stage.name,
      description: `fake stage ${stage.name}`,
      implementation: import.meta.url,
      upstream: stage.upstream ?? [],
      ...(stage.upstreamOutputs === undefined ? {} : { upstreamOutputs: stage.upstreamOutputs }),
      configKeys: stage.configKeys ?? [],
      fileInputs: () => stage.inputs ?? [],
      ...(stage.missingHint === undefined
        ? {}
        : { describeMissingInput: (path: string) => `${stage.missingHint} (${path})` }),
      async run(context) {
        appendFileSync(spec.logFile, `${stage.name}\n`);
        if (stage.writePartialFirst) {
          await writeFile(join(context.outDir, "result.txt"), "PARTIAL");
        }
        if (stage.counter !== undefined) {
          const { total, unit, everyMs } = stage.counter;
          for (let done = 1; done <= total; done++) {
            await sleep(everyMs, context.signal);
            context.count(done, total, unit, `part ${done}/${total}`);
          }
        }
        if (stage.delayMs !== undefined) await sleep(stage.delayMs, context.signal);
        if (stage.fail) throw new Error(`${stage.name} failed on purpose`);
        if (stage.writeLog)
          await writeFile(join(context.outDir, "log.txt"), `${JSON.stringify(context.config)}\n`);
        if (stage.output === "constant") {
          await writeFile(join(context.outDir, "result.txt"), `constant output of ${stage.name}\n`);
          return;
        }
        const parts: string[] = [`stage ${stage.name}`, `config ${JSON.stringify(context.config)}`];
        for (const file of context.inputFiles) {
          parts.push(`file ${file.key}: ${await readFile(file.path, "utf8")}`);
        }
        for (const [name, upstream] of context.upstream) {
          // Read through linkInto, the way stages that want a directory do.
          const linked = await upstream.linkInto(join(context.scratchDir, name));
          for (const path of upstream.files.keys()) {
            parts.push(`upstream ${name}/${path}: ${await readFile(join(linked, path), "utf8")}`);
          }
        }
        await writeFile(join(context.outDir, "result.txt"), `${parts.join("\n")}\n`);
      },
    }),
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
