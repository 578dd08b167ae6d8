/** Watch mode hands each finished build, with its project, to the caller (the CLI prints the summary). */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { watchProject } from "../../src/api/watch.js";
import type { BuildResult } from "../../src/graph-runner/events.js";
import { createFakeStages } from "../helpers/fake-stages.js";
import { waitFor } from "../helpers/run-cli-process.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

let ws: TestWorkspace;
before(async () => {
  ws = await createTestWorkspace();
});
after(async () => {
  await ws.cleanup();
});

test("onBuildDone gets the built project and the result after the first build and after a rebuild", async () => {
  const done: { outputDir: string; result: BuildResult }[] = [];
  const controller = new AbortController();
  const watching = watchProject({
    cwd: ws.root,
    createStages: () =>
      createFakeStages({ stages: [{ name: "report", configKeys: ["seed"] }], logFile: ws.logFile }),
    signal: controller.signal,
    onEvent: () => undefined,
    onBuildDone: (project, result) => done.push({ outputDir: project.outputDir, result }),
    debounceMs: 50,
  });
  try {
    await waitFor(() => done.length === 1);
    assert.equal(done[0]?.outputDir, `${ws.root}/build/test`);
    assert.deepEqual(done[0]?.result.outcomes, { report: "built" });
    await ws.write(
      "recipes/test.yaml",
      (await ws.read("recipes/test.yaml")).replace("seed: 1", "seed: 2"),
    );
    await waitFor(() => done.length === 2);
    assert.deepEqual(done[1]?.result.outcomes, { report: "built" });
  } finally {
    controller.abort();
    await watching;
  }
});
