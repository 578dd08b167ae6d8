/**
 * The real CLI over a fake pipeline, for tests that need separate processes
 * (SIGKILL, concurrent builds, key stability across processes) and for the
 * no-op benchmark. The pipeline spec comes as JSON in TINYFORMER_FAKE_PIPELINE.
 */
import { runCli } from "../../src/cli/main.js";
import { createFakeStages, type FakePipelineSpec } from "./fake-stages.js";

const spec = JSON.parse(process.env.TINYFORMER_FAKE_PIPELINE ?? "null") as FakePipelineSpec | null;
if (spec === null) {
  process.stderr.write("TINYFORMER_FAKE_PIPELINE is not set\n");
  process.exit(2);
}
process.exitCode = await runCli(process.argv.slice(2), {
  createStages: () => createFakeStages(spec),
});
