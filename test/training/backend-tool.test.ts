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
