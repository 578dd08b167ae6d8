/**
 * Runs every compiled `*.test.js` under dist/test (or under the directories
 * given as arguments) with node:test. Node 20's `--test DIR` would also run
 * helper modules as tests, and it has no glob support yet.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const distTest = join(dirname(fileURLToPath(import.meta.url)), "..", "test");
const roots =
  process.argv.length > 2 ? process.argv.slice(2).map((arg) => resolve(arg)) : [distTest];
const files = roots
  .flatMap((root) =>
    root.endsWith(".js")
      ? [root]
      : readdirSync(root, { recursive: true, encoding: "utf8" })
          .filter((name) => name.endsWith(".test.js"))
          .map((name) => join(root, name)),
  )
  .sort();
if (files.length === 0) {
  process.stderr.write(`no *.test.js files under ${roots.join(", ")}\n`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...files], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
