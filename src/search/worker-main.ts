/**
 * A search worker process: receives a job setup, builds its assessment
 * context (loadAssessmentContext: the same code the stage runs), then
 * assesses the candidates it is sent, one at a time, until its parent
 * disconnects. It exits when the parent goes away, so a killed build leaves
 * no worker behind.
 */
import { assessCandidate } from "./assess-candidate.js";
import { type LoadedAssessmentContext, loadAssessmentContext } from "./job.js";
import type { FromWorker, ToWorker } from "./worker-protocol.js";

let loaded: LoadedAssessmentContext | undefined;
let queue: Promise<void> = Promise.resolve();

function send(message: FromWorker): void {
  process.send?.(message);
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

process.on("message", (message: ToWorker) => {
  queue = queue.then(async () => {
    if (message.kind === "setup") {
      try {
        loaded = await loadAssessmentContext(message.setup);
        send({ kind: "ready" });
      } catch (error) {
        send({ kind: "failed", id: null, message: errorText(error) });
      }
      return;
    }
    if (loaded === undefined) {
      send({
        kind: "failed",
        id: message.id,
        message: "worker received a candidate before its setup",
      });
      return;
    }
    try {
      send({
        kind: "assessed",
        id: message.id,
        assessment: assessCandidate(loaded.context, message.candidate),
      });
    } catch (error) {
      send({ kind: "failed", id: message.id, message: errorText(error) });
    }
  });
});

// The parent closed the channel (it finished, failed or was killed): stop.
process.on("disconnect", () => {
  loaded?.dispose();
  process.exit(0);
});
