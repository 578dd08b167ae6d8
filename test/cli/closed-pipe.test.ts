import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { packageRoot } from "../../src/project-paths.js";

test("output into a closed pipe (as with `| head -1`) ends quietly", async () => {
  const child = spawn(
    process.execPath,
    [join(packageRoot, "bin", "tinyformer.js"), "-C", packageRoot, "graph", "--json"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // Read nothing and close our end at once, like `head` after its first line.
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) =>
    child.on("close", (exitCode) => resolve(exitCode)),
  );
  assert.equal(stderr, "");
  assert.equal(code, 0);
});
