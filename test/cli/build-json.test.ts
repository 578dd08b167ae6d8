/**
 * `build --json`: every line is one event that validates against the
 * documented schema (schemas/build-event.schema.json), with the events a
 * build with cached, run, failed and skipped stages produces.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { packageRoot } from "../../src/project-paths.js";
import { runCliIn } from "../helpers/cli-in-process.js";
import type { FakeStageSpec } from "../helpers/fake-stages.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

let ws: TestWorkspace;
before(async () => {
  ws = await createTestWorkspace();
});
after(async () => {
  await ws.cleanup();
});

test("build --json prints JSON Lines events that match the published schema", async () => {
  const schema = JSON.parse(
    await readFile(join(packageRoot, "schemas", "build-event.schema.json"), "utf8"),
  );
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
  const stages: FakeStageSpec[] = [
    { name: "a", configKeys: ["seed"] },
    { name: "b", upstream: ["a"], fail: true },
    { name: "c", upstream: ["b"] },
    { name: "d", upstream: ["a"] },
  ];
  await runCliIn(ws, ["build"], [{ name: "a", configKeys: ["seed"] }]);
  const run = await runCliIn(ws, ["build", "--json"], stages);
  assert.equal(run.code, 1, "b fails");
  const lines = run.out.split("\n");
  const events = lines.map((line) => JSON.parse(line) as { type: string; stage?: string });
  for (const event of events) {
    assert.ok(validate(event), `${JSON.stringify(event)}: ${JSON.stringify(validate.errors)}`);
  }
  // b and d run at once, so their events interleave: compare as a set.
  const label = (event: { type: string; stage?: string }) =>
    `${event.type}${event.stage === undefined ? "" : ` ${event.stage}`}`;
  assert.deepEqual(
    new Set(events.map(label)),
    new Set([
      "build-start",
      "stage-cached a",
      "stage-start b",
      "stage-failed b",
      "stage-skipped c",
      "stage-start d",
      "stage-done d",
      "build-done",
    ]),
  );
  assert.equal(events[0]?.type, "build-start");
  assert.equal(events.at(-1)?.type, "build-done");
  for (const type of [
    "stage-cached",
    "stage-start",
    "stage-failed",
    "stage-skipped",
    "stage-done",
  ]) {
    assert.ok(
      events.some((event) => event.type === type),
      `a ${type} event`,
    );
  }
});

test("every event type in the runner has a schema entry", async () => {
  const schema = JSON.parse(
    await readFile(join(packageRoot, "schemas", "build-event.schema.json"), "utf8"),
  ) as { oneOf: { properties: { type: { const: string } } }[] };
  const inSchema = schema.oneOf.map((entry) => entry.properties.type.const).sort();
  const source = await readFile(join(packageRoot, "src", "graph-runner", "events.ts"), "utf8");
  const inCode = [...source.matchAll(/type: "([a-z-]+)"/g)].map((match) => match[1]).sort();
  assert.deepEqual(inSchema, [...new Set(inCode)]);
});
