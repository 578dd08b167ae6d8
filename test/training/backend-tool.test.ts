import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ToolProbe } from "../../src/graph-runner/tool-probe.js";
import { WASM_GRADIENT_KERNELS_REVISION } from "../../src/training/backend.js";
import { createBackendTool } from "../../src/training/backend-tool.js";

test("the ML backend tool names the backend training will use, memoised across processes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tinyformer-backend-tool-"));
  try {
    const tool = createBackendTool("wasm");
    assert.ok(tool.stampFiles().some((file) => file.endsWith("tfjs-core/package.json")));
    assert.ok(
      tool.stampFiles().includes("absent:@tensorflow/tfjs-node") ||
        tool.stampFiles().some((f) => f.includes("tfjs-node")),
    );
    assert.match(
      tool.stampText ?? "",
      new RegExp(`choice=wasm wasm-gradient-kernels=${WASM_GRADIENT_KERNELS_REVISION}`),
    );
    const memo = join(dir, "memo.json");
    const first = new ToolProbe(memo);
    const identity = await first.identify(tool);
    assert.match(identity.version, /^wasm@4\.22\.0(\+simd)?\+grad\d+$/);
    await first.save();
    // A second process answers from the memo: a probe that would throw is never called.
    const again = await new ToolProbe(memo).identify({
      ...tool,
      probe: () => Promise.reject(new Error("probed again")),
    });
    assert.equal(again.version, identity.version);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("data-parallel training workers join the identity and its memo stamp; one worker leaves both as they were", async () => {
  const one = createBackendTool("wasm", 1);
  const two = createBackendTool("wasm", 2);
  assert.equal(one.stampText, createBackendTool("wasm").stampText);
  assert.notEqual(two.stampText, one.stampText);
  const single = await one.probe();
  assert.equal(await two.probe(), `${single}+workers2`);
});

test("the workspace's training_workers and --training-workers reach the training stages' keys", async () => {
  const { openProject } = await import("../../src/api/project.js");
  const { createTestWorkspace, TINY_RECIPE } = await import("../helpers/workspace.js");
  const ws = await createTestWorkspace(TINY_RECIPE);
  try {
    const identities = async (options: { trainingWorkers?: number }) => {
      const project = await openProject({ cwd: ws.root, ...options });
      const result: Record<string, string> = {};
      for (const stage of project.stages) {
        const tool = stage.tools?.find((candidate) => candidate.name === "ml-backend");
        if (tool !== undefined && tool.kind === "probe") result[stage.name] = await tool.probe();
      }
      return result;
    };
    const byDefault = await identities({});
    assert.deepEqual(Object.keys(byDefault).sort(), [
      "finetune",
      "quantize",
      "sparsenas",
      "supernas",
    ]);
    assert.ok(Object.values(byDefault).every((version) => !version.includes("+workers")));
    await ws.write("tinyformer.yaml", `${await ws.read("tinyformer.yaml")}training_workers: 3\n`);
    const fromWorkspace = await identities({});
    assert.match(fromWorkspace.supernas ?? "", /\+workers3$/);
    assert.match(fromWorkspace.finetune ?? "", /\+workers3$/);
    // The search and quantize's float evaluation do not train: their results do not depend on the count.
    assert.equal(fromWorkspace.sparsenas, byDefault.sparsenas);
    assert.equal(fromWorkspace.quantize, byDefault.quantize);
    const fromFlag = await identities({ trainingWorkers: 2 });
    assert.match(fromFlag.supernas ?? "", /\+workers2$/);
  } finally {
    await ws.cleanup();
  }
});
