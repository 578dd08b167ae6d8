/**
 * `doctor` names the training backend that runs and a short measured training
 * and inference rate on it; `--training-workers` takes a positive count.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCliIn } from "../helpers/cli-in-process.js";
import { createTestWorkspace, type TestWorkspace, TINY_RECIPE } from "../helpers/workspace.js";

describe("doctor", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace(TINY_RECIPE);
  });
  after(async () => {
    await ws.cleanup();
  });

  test("prints the backend and its measured ResNet-8 rates", async () => {
    const { out } = await runCliIn(ws, ["doctor", "--backend", "wasm"], null);
    assert.match(out, /^ {2}ok {6}ml backend {9}wasm@\S+\+simd/m);
    const speed =
      /^ {2}ok {6}ml speed {11}ResNet-8 .*train (\d+) images\/s, infer (\d+) images\/s on wasm/m.exec(
        out,
      );
    assert.ok(speed !== null, out);
    assert.ok(Number(speed[1]) > 0 && Number(speed[2]) > Number(speed[1]), out);
  });

  test("--training-workers takes a positive count", async () => {
    const { code, err } = await runCliIn(
      ws,
      ["build", "--dry-run", "--training-workers", "0"],
      null,
    );
    assert.equal(code, 2);
    assert.match(err, /expected a positive integer, got "0"/);
  });

  test("does not try to measure the pure-JavaScript CPU backend", async () => {
    const { out } = await runCliIn(ws, ["doctor", "--backend", "cpu"], null);
    assert.match(out, /ml backend {9}cpu@/);
    assert.match(out, /ml speed {11}not measured on the pure-JavaScript CPU backend/);
  });
});
