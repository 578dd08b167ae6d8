/**
 * `cache gc` says what each entry it removes took to build, and warns when a
 * removal throws away more than a minute of stage runs (the preview says it
 * too, so a user sees the cost before paying it).
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCliIn } from "../helpers/cli-in-process.js";
import type { FakeStageSpec } from "../helpers/fake-stages.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const STAGES: FakeStageSpec[] = [{ name: "train", configKeys: ["seed"] }];

let ws: TestWorkspace;
before(async () => {
  ws = await createTestWorkspace();
});
after(async () => {
  await ws.cleanup();
});

test("gc lists each removal with its build time and warns before throwing away minutes of work", async () => {
  assert.equal((await runCliIn(ws, ["build"], STAGES)).code, 0);
  // The entry records how long its run took; make it a ten-minute training.
  const dir = join(ws.root, ".tinyformer", "cache", "entries", "train");
  const [file] = await readdir(dir);
  const path = join(dir, file as string);
  const entry = JSON.parse(await readFile(path, "utf8")) as { durationMs: number };
  await writeFile(path, JSON.stringify({ ...entry, durationMs: 600_000 }));

  const preview = await runCliIn(ws, ["cache", "gc", "--max-bytes", "0", "--dry-run"], STAGES);
  assert.equal(preview.code, 0, preview.err);
  assert.match(
    preview.out,
    /^ {2}would remove train [0-9a-f]{12} \(.*, took 600\.0 s to build\)$/m,
  );
  assert.equal(
    preview.err,
    "warning: removing these costs about 10.0 minutes of stage runs to rebuild",
  );
  const removed = await runCliIn(ws, ["cache", "gc", "--max-bytes", "0"], STAGES);
  assert.match(removed.out, /^ {2}removed train [0-9a-f]{12} /m);
  assert.match(
    removed.err,
    /the entries removed costs about 10\.0 minutes .*`cache gc --dry-run` previews a removal/,
  );
});
