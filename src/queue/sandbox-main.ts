/**
 * The sandbox process (sandbox.ts): runs the jobs its worker sends, one at
 * a time, and answers with their results. It keeps the last search setup's
 * loaded assessment context (the supernet, the images), so consecutive
 * candidates of one search load it once.
 *
 * It never outlives its worker: the kernel kills it when the worker dies
 * (`setpriv --pdeathsig`, where available); it exits when the IPC channel
 * closes, and a timer exits it when its parent process id changes (checked
 * whenever a synchronous computation lets the event loop run).
 */
import type { FromSandbox, ToSandbox } from "./sandbox.js";

const parent = Number(process.env.TINYFORMER_SANDBOX_PARENT ?? process.ppid);
const parentCheck = setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 250);
parentCheck.unref();
process.on("disconnect", () => process.exit(0));

interface LoadedSetup {
  readonly digest: string;
  readonly loaded: import("../search/job.js").LoadedAssessmentContext;
}
let current: LoadedSetup | undefined;
let queue: Promise<void> = Promise.resolve();

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const send = (message: FromSandbox) => process.send?.(message);

async function run(message: ToSandbox): Promise<unknown> {
  const { job } = message;
  if (job.kind === "sleep") {
    await new Promise((resolve) => setTimeout(resolve, job.ms));
    if (job.fail === "deterministic") throw new Error("the sleep job was asked to fail");
    return job.value;
  }
  const [{ loadAssessmentContext }, { assessCandidate }] = await Promise.all([
    import("../search/job.js"),
    import("../search/assess-candidate.js"),
  ]);
  if (current?.digest !== job.setupDigest) {
    current?.loaded.dispose();
    current = undefined;
    const setup = message.setup as import("../search/job.js").SearchJobSetup | undefined;
    if (setup === undefined) throw new Error(`no job setup for ${job.setupDigest}`);
    current = { digest: job.setupDigest, loaded: await loadAssessmentContext(setup) };
  }
  return assessCandidate(current.loaded.context, job.candidate);
}

process.on("message", (message: ToSandbox) => {
  queue = queue.then(async () => {
    try {
      send({ kind: "done", id: message.id, value: await run(message) });
    } catch (error) {
      send({ kind: "failed", id: message.id, message: errorText(error) });
    }
  });
});
