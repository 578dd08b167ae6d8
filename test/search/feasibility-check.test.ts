/**
 * A search that cannot fit its board fails before anything is built: the
 * smallest candidate's footprint, and the budget it misses, at that budget's
 * position (the board's memory region, or the recipe's latency budget), exit
 * code 2. A search that fits, and a fixed network, pass.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCliIn } from "../helpers/cli-in-process.js";
import { createTestWorkspace, SEARCH_RECIPE, type TestWorkspace } from "../helpers/workspace.js";

const TINY_BOARD = `name: tiny
core: cortex-m7
fpu: fpv5-sp-d16
dsp: true
clock_hz: 216000000
memory:
  flash: { origin: 0x08000000, size_bytes: 65536, reserved_bytes: 16384 }
  sram: { origin: 0x20000000, size_bytes: 20480, reserved_bytes: 16384 }
compiler:
  cflags: [-mcpu=cortex-m7, -mthumb, -mfpu=fpv5-sp-d16, -mfloat-abi=hard, -O2]
  ldflags: ["-Wl,--gc-sections"]
emulator:
  machine: mps2-an500
  cpu: cortex-m7
  code: { origin: 0x0, size_bytes: 4194304 }
  ram: { origin: 0x20000000, size_bytes: 4194304 }
`;

describe("search feasibility before any training", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace(SEARCH_RECIPE);
    await ws.write("boards/tiny.yaml", TINY_BOARD);
  });
  after(async () => {
    await ws.cleanup();
  });

  test("a board too small for the smallest candidate: the SRAM line, exit 2, nothing built", async () => {
    const run = await runCliIn(ws, ["build", "--set", "board=tiny"], null);
    assert.equal(run.code, 2);
    assert.match(
      run.err,
      /^boards\/tiny\.yaml:8:43: memory\.sram: no candidate of the search fits: even the smallest needs [\d,]+ bytes of SRAM, [\d,]+ over the budget of 4,096 \(the smallest candidate is the space's smallest sub-network with every layer at its highest sparsity target: about [\d,]+ bytes of flash, [\d,]+ bytes of SRAM, [\d,]+ instructions per inference\); the budget is size_bytes - reserved_bytes\n8 \| {3}sram: /m,
    );
    assert.equal(ws.exists(".tinyformer/cache/entries"), false, "nothing was built");
  });

  test("a latency budget below the smallest candidate points at the recipe's budget", async () => {
    const run = await runCliIn(
      ws,
      ["build", "--dry-run", "--set", "search.latency_budget_instructions=1000"],
      null,
    );
    assert.equal(run.code, 2);
    assert.match(
      run.err,
      /^<--set #1>:1:36: search\.latency_budget_instructions: no candidate of the search fits: even the smallest needs [\d,]+ instructions per inference, [\d,]+ over the budget of 1,000 /m,
    );
  });

  test("a search that fits, and a fixed network on the tiny board, pass", async () => {
    assert.equal((await runCliIn(ws, ["build", "--dry-run"], null)).code, 0);
    const fixed = await runCliIn(
      ws,
      [
        "build",
        "--dry-run",
        "--set",
        "board=tiny",
        "--set",
        "search_space={ stages: [{ block: mbv2, channels: 8 }] }",
        "--set",
        "sparsity.global_target=0.5",
      ],
      null,
    );
    assert.equal(fixed.code, 0, fixed.err);
  });
});
