/**
 * The package as a library user gets it: `import ... from "tinyformer"`
 * works with types, and the published files hold no tests or benchmarks.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { packageRoot } from "../../src/project-paths.js";

test('import { openProject, buildProject } from "tinyformer" works and type-checks', async () => {
  const api = await import("tinyformer");
  for (const name of [
    "openProject",
    "buildProject",
    "planProject",
    "projectStatus",
    "explainStage",
    "validateFiles",
    "watchProject",
    "gcCache",
    "initWorkspace",
  ]) {
    assert.equal(typeof (api as Record<string, unknown>)[name], "function", name);
  }
  const dir = await mkdtemp(join(tmpdir(), "tinyformer-consumer-"));
  try {
    await mkdir(join(dir, "node_modules"));
    await symlink(packageRoot, join(dir, "node_modules", "tinyformer"), "dir");
    await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
    await writeFile(
      join(dir, "use.ts"),
      [
        'import { buildProject, openProject, type BuildEvent } from "tinyformer";',
        'const project = await openProject({ cwd: "." });',
        "const result = await buildProject(project, { onEvent: (event: BuildEvent) => event.type });",
        "const ok: boolean = result.ok;",
        "// @ts-expect-error: the options are typed",
        "await buildProject(project, { jobs: 'many' });",
        "export { ok };",
        "",
      ].join("\n"),
    );
    const tsc = join(packageRoot, "node_modules", "typescript", "bin", "tsc");
    const run = spawnSync(
      process.execPath,
      [
        tsc,
        "--noEmit",
        "--strict",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--target",
        "es2022",
        "--skipLibCheck",
        "--types",
        "node",
        "--typeRoots",
        join(packageRoot, "node_modules", "@types"),
        "use.ts",
      ],
      { cwd: dir, encoding: "utf8" },
    );
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("npm pack ships the compiled library, schemas, templates and recipes, and no tests or benchmarks", () => {
  const run = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: packageRoot,
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  const [pack] = JSON.parse(run.stdout) as [{ files: { path: string }[] }];
  const files = pack.files.map((file) => file.path);
  assert.deepEqual(
    files.filter((path) => /^dist\/(test|bench|scripts)\//.test(path)),
    [],
  );
  for (const expected of [
    "bin/tinyformer.js",
    "dist/src/api/index.js",
    "dist/src/api/index.d.ts",
    "dist/src/config/validators/recipe.js",
    "schemas/recipe.schema.json",
    "templates/c/kernels/tf_linear_s8.c",
    "templates/init/recipe.yaml.hbs",
    "templates/init/tinyformer.yaml.hbs",
    "recipes/default.yaml",
    "boards/stm32f746.yaml",
  ]) {
    assert.ok(files.includes(expected), `${expected} is shipped`);
  }
});
