import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { type ProbedTool, ToolMissingError, ToolProbe } from "../../src/graph-runner/tool-probe.js";
import { createHarness } from "../helpers/pipeline-harness.js";
import { createTestWorkspace } from "../helpers/workspace.js";

describe("tool identities", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tinyformer-tools-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("an executable is identified by its version line and found on PATH", async () => {
    const probe = new ToolProbe(join(dir, "memo.json"));
    const node = await probe.identify({ name: "node", command: process.execPath, installHint: "" });
    assert.equal(node.version, process.version);
    await probe.save();
    const again = await new ToolProbe(join(dir, "memo.json")).identify({
      name: "node",
      command: process.execPath,
      installHint: "",
    });
    assert.equal(again.version, process.version);
  });

  test("a missing executable is an error that says how to install it", async () => {
    const probe = new ToolProbe(undefined);
    await assert.rejects(
      probe.identify({
        name: "frobcc",
        command: "frobcc-does-not-exist",
        installHint: "Install frobcc with apt-get install frobcc.",
      }),
      (error: unknown) =>
        error instanceof ToolMissingError &&
        error.message ===
          "frobcc is not available (`frobcc-does-not-exist` not found on PATH). Install frobcc with apt-get install frobcc.",
    );
  });

  test("a probed identity is memoised by its stamp files and re-probed when they change", async () => {
    const stamp = join(dir, "package.json");
    await writeFile(stamp, '{"version":"1.0.0"}');
    let probes = 0;
    const backend: ProbedTool = {
      kind: "probe",
      name: "ml-backend",
      stampFiles: () => [stamp, join(dir, "absent.json")],
      probe: async () => `fake@${++probes}`,
      installHint: "",
    };
    const memo = join(dir, "memo.json");
    const first = new ToolProbe(memo);
    assert.equal((await first.identify(backend)).version, "fake@1");
    assert.equal((await first.identify(backend)).version, "fake@1");
    await first.save();
    assert.equal((await new ToolProbe(memo).identify(backend)).version, "fake@1");
    assert.equal(probes, 1);
    await writeFile(stamp, '{"version":"1.0.10"}');
    assert.equal((await new ToolProbe(memo).identify(backend)).version, "fake@2");
    // Our own revision constant counts too.
    const revised = new ToolProbe(memo);
    assert.equal(
      (await revised.identify({ ...backend, stampText: "kernels=2" })).version,
      "fake@3",
    );
  });

  test("variants of one probed tool (same name, other stamp text) keep their own identities and memo entries", async () => {
    const variant = (text: string): ProbedTool => ({
      kind: "probe",
      name: "ml-backend",
      stampFiles: () => [],
      stampText: text,
      probe: async () => `fake${text}`,
      installHint: "",
    });
    const memo = join(dir, "memo.json");
    const probe = new ToolProbe(memo);
    // Identified at once, as stages gathering their inputs in parallel do.
    const [plain, parallel] = await Promise.all([
      probe.identify(variant("")),
      probe.identify(variant("+workers2")),
    ]);
    assert.equal(plain.version, "fake");
    assert.equal(parallel.version, "fake+workers2");
    await probe.save();
    const never = (tool: ProbedTool): ProbedTool => ({
      ...tool,
      probe: () => Promise.reject(new Error("probed again: the variants evicted each other")),
    });
    const again = new ToolProbe(memo);
    assert.equal((await again.identify(never(variant("+workers2")))).version, "fake+workers2");
    assert.equal((await again.identify(never(variant("")))).version, "fake");
  });

  test("a stage whose tool is missing fails with the install hint, and records nothing", async () => {
    const ws = await createTestWorkspace();
    try {
      const harness = createHarness(ws, [{ name: "a" }]);
      const stages = harness.createStages().map((stage) => ({
        ...stage,
        tools: [
          {
            name: "frobcc",
            command: "frobcc-does-not-exist",
            installHint: "Run ./scripts/setup.sh.",
          },
        ],
      }));
      const { openProject } = await import("../../src/api/project.js");
      const { buildProject } = await import("../../src/api/build.js");
      const events: string[] = [];
      const result = await buildProject(
        await openProject({ cwd: ws.root, createStages: () => stages }),
        {
          onEvent: (event) => {
            if (event.type === "stage-failed") events.push(event.error);
          },
        },
      );
      assert.deepEqual(result.outcomes, { a: "failed" });
      assert.deepEqual(events, [
        "frobcc is not available (`frobcc-does-not-exist` not found on PATH). Run ./scripts/setup.sh.",
      ]);
      assert.deepEqual(ws.invocations(), []);
    } finally {
      await ws.cleanup();
    }
  });
});
