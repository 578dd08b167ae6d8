/**
 * Assessments as jobs on a BullMQ queue (src/queue/), run by `tinyformer
 * worker` processes on this or other machines. The search loop stays here;
 * each batch of candidates becomes one job per distinct candidate.
 *
 * The job setup (search/job.ts) is stored once in Redis under the digest of
 * its identity: its content without its paths (the checkpoint's and every
 * dataset file's SHA-256, the TinyFormer version), so the same search in
 * another build directory has the same job ids. A job carries only the setup
 * digest and the candidate; its id is the digest of both, so a duplicate is
 * deduplicated and a restarted search reuses what was already assessed.
 * Workers read the inputs at the setup's paths: the same workspace on a
 * shared filesystem.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson } from "../graph-runner/canonical-json.js";
import { digestFile, digestText } from "../graph-runner/digest.js";
import { openQueueDispatcher, type QueueProgress } from "../queue/dispatcher.js";
import { type QueueJobData, searchJobId } from "../queue/jobs.js";
import { readPackageVersion } from "../queue/version.js";
import type { Candidate } from "./candidate.js";
import type { Assessment } from "./evolution.js";
import type { CandidateExecutor } from "./executor.js";
import type { SearchJobSetup } from "./job.js";

/** Digest of what a setup's assessments depend on, whatever directories its files are in. */
export async function searchSetupDigest(setup: SearchJobSetup): Promise<string> {
  const files = (await readdir(setup.datasetDirectory, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
  const dataset: Record<string, string> = {};
  for (const file of files) dataset[file] = await digestFile(join(setup.datasetDirectory, file));
  const { checkpoint, datasetDirectory: _paths, ...rest } = setup;
  return digestText(
    canonicalJson({
      ...rest,
      checkpoint: checkpoint.weightsSha256,
      dataset,
      version: readPackageVersion(),
    }),
  );
}

export async function createQueueExecutor(
  setup: SearchJobSetup,
  options: {
    readonly url: string;
    readonly signal?: AbortSignal;
    /** Called as each candidate's assessment arrives. */
    readonly onAssessed?: () => void;
    /** Jobs queued, running and done, overall and per worker. */
    readonly onProgress?: (progress: QueueProgress) => void;
  },
): Promise<CandidateExecutor> {
  const dispatcher = await openQueueDispatcher(options.url);
  try {
    const digest = await searchSetupDigest(setup);
    await dispatcher.storeSetup(digest, JSON.stringify(setup));
    const version = readPackageVersion();
    return {
      async assess(candidates: readonly Candidate[]): Promise<Assessment[]> {
        const jobs = candidates.map((candidate) => ({
          id: searchJobId(digest, candidate),
          data: {
            kind: "search-assess",
            version,
            setupDigest: digest,
            candidate,
          } satisfies QueueJobData,
        }));
        const results = await dispatcher.runBatch(jobs, {
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(options.onAssessed === undefined ? {} : { onResult: () => options.onAssessed?.() }),
          ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        });
        return results as Assessment[];
      },
      close: () => dispatcher.close(),
    };
  } catch (error) {
    await dispatcher.close();
    throw error;
  }
}
