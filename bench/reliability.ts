/**
 * `npm run bench -- reliability [--kills N] [--fuzz N] [--seed S]`: the
 * hostile-user trials of the reliability suite, many times, on the tiny
 * recipe and the real CLI (see test/helpers/reliability.ts):
 *
 * - SIGKILL at N points spread evenly over a cold build (half the trials)
 *   and over a build that only restores from the cache (materialisation);
 *   after each, `cache verify` must be clean, the next build must succeed
 *   and write exactly the bytes of an uninterrupted build, with no staging
 *   folders or locks left behind;
 * - one flipped byte in every object of every cache entry (at a seeded
 *   position): the build must name the damage, rebuild, and write the
 *   reference bytes (`corrupt_served` counts the times it did not);
 * - gc looping during a build, and two concurrent builds;
 * - a seeded corpus of mutated configurations through `validate`: crashes
 *   and rejections without a file:line:col position are counted;
 * - the wall time of a whole-process no-op build (median of 9).
 *
 * Last line: {"kill_trials", "kill_failures", "corruptions", "corrupt_served",
 * "fuzz_cases", "fuzz_crashes", "fuzz_unpositioned", "noop_ms", ...}.
 */

import { validateFiles } from "../src/api/validate.js";
import { classifyValidation, mutatedConfigs } from "../test/helpers/config-fuzz.js";
import {
  buildReference,
  concurrentBuildsTrial,
  corruptionTrial,
  gcDuringBuildTrial,
  killTrial,
  listCachedObjects,
  runTinyformer,
  type TrialResult,
} from "../test/helpers/reliability.js";
import { createTestWorkspace } from "../test/helpers/workspace.js";

const DEFAULT_KILLS = 30;
const DEFAULT_FUZZ = 500;
const NOOP_RUNS = 9;

export async function main(args: string[]): Promise<void> {
  const option = (name: string, fallback: number) => {
    const at = args.indexOf(name);
    return at < 0 ? fallback : Number(args[at + 1]);
  };
  const kills = option("--kills", DEFAULT_KILLS);
  const fuzzCases = option("--fuzz", DEFAULT_FUZZ);
  const seed = option("--seed", 1);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const ref = await buildReference();
  log(`reference: cold build ${ref.coldMs} ms, restoring build ${ref.restoreMs} ms`);
  try {
    const failures: TrialResult[] = [];
    const note = (trial: TrialResult) => {
      log(`  ${trial.ok ? "ok  " : "FAIL"} ${trial.name}${trial.ok ? "" : `: ${trial.problem}`}`);
      if (!trial.ok) failures.push(trial);
    };

    // Kills: evenly spread, cold builds over 105 % of the cold time (the
    // last points land in the final stages' materialisation), restoring
    // builds over the whole restore.
    const coldKills = Math.ceil(kills / 2);
    const restoreKills = kills - coldKills;
    let killFailures = 0;
    for (let i = 0; i < coldKills; i++) {
      const trial = await killTrial(
        ref,
        Math.round(((i + 0.5) / coldKills) * ref.coldMs * 1.05),
        true,
      );
      note(trial);
      if (!trial.ok) killFailures++;
    }
    for (let i = 0; i < restoreKills; i++) {
      const at = Math.round(((i + 0.5) / restoreKills) * ref.restoreMs);
      const trial = await killTrial(ref, at, false);
      note(trial);
      if (!trial.ok) killFailures++;
    }

    // Corruptions: every object of the reference build, seeded positions.
    const objects = await listCachedObjects(ref);
    let position = seed;
    let served = 0;
    let corruptionFailures = 0;
    for (const object of objects) {
      position = (position * 7919 + 13) % 1_000_003;
      const trial = await corruptionTrial(ref, object, position);
      note(trial);
      if (trial.served) served++;
      if (!trial.ok) corruptionFailures++;
    }

    const gc = await gcDuringBuildTrial(ref);
    note(gc);
    const concurrent = await concurrentBuildsTrial(ref);
    note(concurrent);

    const fuzz = await fuzzConfigurations(seed, fuzzCases, log);

    // The no-op build: everything cached and materialised; whole process.
    await runTinyformer(ref.ws, ["build"]);
    const times: number[] = [];
    for (let i = 0; i < NOOP_RUNS; i++) times.push((await runTinyformer(ref.ws, ["build"])).ms);
    times.sort((a, b) => a - b);

    process.stdout.write(
      `${JSON.stringify({
        kill_trials: kills,
        kill_failures: killFailures,
        corruptions: objects.length,
        corrupt_served: served,
        corruption_failures: corruptionFailures,
        gc_during_build_ok: gc.ok,
        concurrent_builds_ok: concurrent.ok,
        fuzz_cases: fuzz.cases,
        fuzz_crashes: fuzz.crashes,
        fuzz_unpositioned: fuzz.unpositioned,
        fuzz_accepted: fuzz.accepted,
        noop_ms: times[Math.floor(times.length / 2)],
        noop_ms_all: times,
        cold_build_ms: ref.coldMs,
      })}\n`,
    );
  } finally {
    await ref.ws.cleanup();
  }
}

/** Validates `count` seeded mutated recipes the way `tinyformer validate` does; counts outcomes. */
async function fuzzConfigurations(
  seed: number,
  count: number,
  log: (line: string) => void,
): Promise<{ cases: number; crashes: number; unpositioned: number; accepted: number }> {
  const ws = await createTestWorkspace();
  const counts = { cases: 0, crashes: 0, unpositioned: 0, accepted: 0 };
  try {
    for (const config of mutatedConfigs(seed, count)) {
      await ws.write("recipes/fuzz.yaml", config.text);
      const outcome = await validateFiles(["recipes/fuzz.yaml"], ws.root).then(
        (result) => classifyValidation({ result }),
        (error: unknown) => classifyValidation({ error }),
      );
      counts.cases++;
      if (outcome.kind === "accepted") counts.accepted++;
      if (outcome.kind === "crash" || outcome.kind === "unpositioned-rejection") {
        if (outcome.kind === "crash") counts.crashes++;
        else counts.unpositioned++;
        log(`  FAIL fuzz case ${config.name}: ${outcome.kind}: ${outcome.detail}`);
      }
    }
  } finally {
    await ws.cleanup();
  }
  log(
    `  fuzz: ${counts.cases} cases, ${counts.accepted} accepted, the rest rejected with a position`,
  );
  return counts;
}
