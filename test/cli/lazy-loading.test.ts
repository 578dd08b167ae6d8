/** Commands that train nothing start without loading TensorFlow.js (its import alone costs hundreds of ms). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../../src/project-paths.js";

const forbid = join(dirname(fileURLToPath(import.meta.url)), "..", "helpers", "forbid-imports.js");
const cli = join(packageRoot, "bin", "tinyformer.js");

function run(args: string[], withGuard = true) {
  return spawnSync(
    process.execPath,
    [...(withGuard ? ["--import", forbid] : []), cli, "-C", packageRoot, ...args],
    {
      encoding: "utf8",
    },
  );
}

test("the guard itself works: importing TensorFlow.js under it fails", () => {
  const result = spawnSync(
    process.execPath,
    ["--import", forbid, "--input-type=module", "-e", 'await import("@tensorflow/tfjs-core")'],
    {
      encoding: "utf8",
      cwd: packageRoot,
    },
  );
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /forbidden import in this command: @tensorflow\/tfjs-core/);
});

for (const args of [
  ["status", "--json"],
  ["build", "--dry-run=json"],
  ["graph", "--json"],
  ["validate"],
]) {
  test(`tinyformer ${args.join(" ")} does not load TensorFlow.js`, () => {
    const result = run(args);
    assert.equal(result.status, 0, result.stderr);
  });
}
