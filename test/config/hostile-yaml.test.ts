/**
 * Hostile configuration text (alias bombs, nesting thousands deep,
 * `__proto__` keys) is a mistake like any other: a diagnostic at a file,
 * line and column, never an engine error or a silently dropped key.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { loadRecipe } from "../../src/config/load-recipe.js";
import { MAX_NESTING_DEPTH } from "../../src/config/yaml-nesting.js";
import { recipeProblems } from "../helpers/recipe-problems.js";
import { createTestWorkspace, MINIMAL_RECIPE, type TestWorkspace } from "../helpers/workspace.js";

/** The `path:line:col: message` lines of every problem, without source lines. */
async function problemLines(ws: TestWorkspace, overrides: string[] = []): Promise<string[]> {
  return (await recipeProblems(ws, overrides))
    .split("\n")
    .filter((line) => /^\S+( #\d+>)?:\d+:\d+: /.test(line));
}

/** Billion laughs: anchor `a` lists 9 strings, each next anchor 9 aliases of the previous. */
function billionLaughs(): string {
  const names = "abcdefghi";
  const lines = [`a: &a [${Array(9).fill("lol").join(", ")}]`];
  for (let i = 1; i < names.length; i++) {
    const [name, previous] = [names[i], names[i - 1]];
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
  }
  return `${lines.join("\n")}\n`;
}

describe("hostile configuration text", () => {
  let ws: TestWorkspace;
  let cwd: string;
  beforeEach(async () => {
    ws = await createTestWorkspace();
    cwd = process.cwd();
    process.chdir(ws.root);
  });
  afterEach(async () => {
    process.chdir(cwd);
    await ws.cleanup();
  });

  test("an alias bomb is reported at the alias that crosses the limit", async () => {
    await ws.write("recipes/test.yaml", `${billionLaughs()}${MINIMAL_RECIPE}`);
    assert.equal(
      await recipeProblems(ws),
      [
        "recipes/test.yaml:5:8: alias *d: the aliases so far repeat more than 10000 values (an alias bomb?); write the values out or use fewer aliases",
        "5 | e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
        "           ^~",
      ].join("\n"),
    );
  });

  test("an alias inside the value it names is reported, not followed forever", async () => {
    await ws.write("recipes/test.yaml", `${MINIMAL_RECIPE}description: &loop [x, *loop]\n`);
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:12:24: alias *loop is inside the value it names: it would never end",
    ]);
  });

  test(`flow nesting past ${MAX_NESTING_DEPTH} levels is reported at the first level too deep`, async () => {
    const deep = `${"[".repeat(1000)}${"]".repeat(1000)}`;
    await ws.write("recipes/test.yaml", `${MINIMAL_RECIPE}description: ${deep}\n`);
    // The root map is level 1, so the 64th bracket opens level 65.
    assert.deepEqual(await problemLines(ws), [
      `recipes/test.yaml:12:${"description: ".length + 64}: nesting deeper than 64 levels of maps and lists`,
    ]);
    // 64 levels in all is allowed (and then the schema speaks).
    await ws.write(
      "recipes/test.yaml",
      `${MINIMAL_RECIPE}description: ${"[".repeat(63)}${"]".repeat(63)}\n`,
    );
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:12:14: description: must be string, got a list",
    ]);
  });

  test("block nesting thousands deep, which overflowed the YAML parser itself, is reported", async () => {
    const block = (levels: number) =>
      Array.from({ length: levels }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n");
    await ws.write("recipes/test.yaml", `${block(100)} 1\n${MINIMAL_RECIPE}`);
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:65:65: nesting deeper than 64 levels of maps and lists",
    ]);
    // Closing 3000 levels at one dedent is what overflowed the parser's stack.
    await ws.write("recipes/test.yaml", `${block(3000)} 1\n${MINIMAL_RECIPE}`);
    const [problem] = await problemLines(ws);
    assert.match(problem ?? "", /^recipes\/test\.yaml:\d+:\d+: nesting deeper than 64 levels/);
  });

  test("nesting built from aliases counts too", async () => {
    const chain = Array.from({ length: 70 }, (_, i) =>
      i === 0 ? "a0: &a0 [x]" : `a${i}: &a${i} [*a${i - 1}]`,
    );
    await ws.write("recipes/test.yaml", `${MINIMAL_RECIPE}${chain.join("\n")}\n`);
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:75:12: alias *a62: nesting deeper than 64 levels of maps and lists",
    ]);
  });

  test("a --set value gets the same limits, located in the argument", async () => {
    // The value alone is nested: its 65th bracket is one level too many.
    assert.deepEqual(await problemLines(ws, [`description=${"[".repeat(100)}${"]".repeat(100)}`]), [
      `<--set #1>:1:${"description=".length + 65}: nesting deeper than 64 levels of maps and lists`,
    ]);
  });

  test("__proto__ and constructor keys are unknown keys, at every level", async () => {
    await ws.write(
      "recipes/test.yaml",
      `__proto__: { polluted: 1 }\nconstructor: 3\n${MINIMAL_RECIPE.replace(
        "  path: data\n",
        "  path: data\n  __proto__: 5\n",
      )}`,
    );
    const expected = (key: string, at: string, where = "") =>
      new RegExp(`^recipes/test\\.yaml:${at}: ${where}unknown key "${key}" \\(expected one of: `);
    const problems = await problemLines(ws);
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.match(problems[0] ?? "", expected("__proto__", "1:1"));
    assert.match(problems[1] ?? "", expected("constructor", "2:1"));
    assert.match(problems[2] ?? "", expected("__proto__", "7:3", "dataset: "));
  });

  test("__proto__ merged over a base recipe's map is kept and reported, not dropped", async () => {
    await ws.write("recipes/base.yaml", "dataset: { path: elsewhere }\n");
    await ws.write(
      "recipes/test.yaml",
      `extends: base.yaml\n${MINIMAL_RECIPE.replace("  path: data\n", "  path: data\n  __proto__: 5\n")}`,
    );
    const problems = await problemLines(ws);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0] ?? "", /^recipes\/test\.yaml:6:3: dataset: unknown key "__proto__"/);
  });

  test("--set __proto__.x and constructor.prototype.x are unknown keys and pollute nothing", async () => {
    const problems = await problemLines(ws, [
      "__proto__.polluted=1",
      "dataset.constructor.prototype.polluted=2",
    ]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0] ?? "", /^<--set #1>:1:1: unknown key "__proto__"/);
    assert.match(problems[1] ?? "", /^<--set #2>:1:9: dataset: unknown key "constructor"/);
    // A valid recipe comes back as plain objects, prototype untouched.
    const loaded = await loadRecipe(ws.recipe, { workspaceRoot: ws.root });
    assert.equal(Object.getPrototypeOf(loaded.recipe.dataset), Object.prototype);
  });

  test("keys that are lists, maps or aliases have no JSON form and are reported", async () => {
    await ws.write("recipes/test.yaml", `${MINIMAL_RECIPE}? [a, b]\n: c\n`);
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:12:3: a key must be a single value, not a list or map",
    ]);
    await ws.write("recipes/test.yaml", `${MINIMAL_RECIPE}x: &k seed\n*k : 3\n`);
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:13:1: a key must be written out, not an alias",
    ]);
  });

  test("old Mac line breaks (CR alone), which the YAML parser reads as no break, are named", async () => {
    await ws.write("recipes/test.yaml", MINIMAL_RECIPE.replaceAll("\n", "\r"));
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:1:8: a line break here is a carriage return alone (old Mac line ends): save the file with LF or CRLF line ends",
    ]);
  });

  test(".nan and .inf are named as written, not as null", async () => {
    await ws.write(
      "recipes/test.yaml",
      MINIMAL_RECIPE.replace("seed: 1", "seed: .inf").replace("0.5", ".nan"),
    );
    assert.deepEqual(await problemLines(ws), [
      "recipes/test.yaml:1:7: seed: must be a finite integer, got .inf",
      "recipes/test.yaml:9:18: sparsity.global_target: must be a finite number, got .nan",
    ]);
  });
});
