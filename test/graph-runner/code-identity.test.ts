/** A stage's identity is its code: every module it can load, and the packages they import. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import {
  CodeIdentityMemo,
  digestOfGraph,
  walkModuleGraph,
} from "../../src/graph-runner/code-identity.js";

describe("code identity", () => {
  let dir: string;
  const write = async (path: string, text: string) => {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  };
  const digest = async () =>
    digestOfGraph(await walkModuleGraph(join(dir, "src", "stage.js"), new Map()));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tinyformer-code-"));
    await write("node_modules/some-lib/package.json", '{"name":"some-lib","version":"1.2.3"}');
    await write(
      "src/stage.js",
      [
        'import { helper } from "./helper.js";',
        'import { readFile } from "node:fs/promises";',
        'import "some-lib/sub/path.js";',
        "export async function run(name) {",
        '  const { heavy } = await import("../lib/heavy.js");',
        // A template-literal import, written as text (no interpolation here).
        `  return import(\`./validators/\${name}.js\`);`,
        "}",
      ].join("\n"),
    );
    await write("src/helper.js", 'import { deep } from "../lib/deep.js"; export const helper = 1;');
    await write("lib/deep.js", "export const deep = 1;");
    await write("lib/heavy.js", "export const heavy = 1;");
    await write("src/validators/one.js", "export default 1;");
    await write("src/validators/two.js", "export default 2;");
    await write("src/unrelated.js", "export const nobody = 'imports me';");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("static, dynamic and template imports are followed; packages are named with their version", async () => {
    const graph = await walkModuleGraph(join(dir, "src", "stage.js"), new Map());
    assert.deepEqual(Object.keys(graph.modules), [
      "../lib/deep.js",
      "../lib/heavy.js",
      "helper.js",
      "stage.js",
      "validators/one.js",
      "validators/two.js",
    ]);
    assert.deepEqual(graph.packages, { "some-lib": "1.2.3" });
  });

  test("editing any reachable module changes the digest; editing an unrelated one does not", async () => {
    const before = await digest();
    await write("src/unrelated.js", "export const nobody = 'still nobody';");
    assert.equal(await digest(), before);
    for (const [path, text] of [
      ["lib/deep.js", "export const deep = 2;"],
      ["lib/heavy.js", "export const heavy = 2;"],
      ["src/validators/two.js", "export default 3;"],
    ] as const) {
      const previous = await digest();
      await write(path, text);
      assert.notEqual(await digest(), previous, `${path} is part of the stage's code`);
    }
  });

  test("a package upgrade changes the digest", async () => {
    const before = await digest();
    await write("node_modules/some-lib/package.json", '{"name":"some-lib","version":"1.2.4"}');
    assert.notEqual(await digest(), before);
  });

  test("the cross-process memo answers while every file keeps its stat, and not after an edit", async () => {
    const entry = join(dir, "src", "stage.js");
    const old = new Date(Date.now() - 60_000);
    const walk = await walkModuleGraph(entry, new Map());
    for (const file of walk.files) await utimes(file, old, old);
    const memoFile = join(dir, "code-memo.json");
    const memo = await CodeIdentityMemo.load(memoFile);
    memo.remember(entry, digestOfGraph(walk), walk.files);
    await memo.save();
    const reloaded = await CodeIdentityMemo.load(memoFile);
    assert.equal(reloaded.lookup(entry), digestOfGraph(walk));
    assert.ok(
      walk.files.some((file) => file.endsWith("package.json")),
      "manifests are watched too",
    );
    await write("lib/heavy.js", "export const heavy = 3;");
    assert.equal(reloaded.lookup(entry), undefined);
  });
});
