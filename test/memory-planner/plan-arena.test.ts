import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createSeededRandom } from "../../src/datasets/seeded-random.js";
import { liveBytesByOp } from "../../src/memory-planner/live-bytes.js";
import {
  type ArenaPlan,
  type BufferRequest,
  planArena,
} from "../../src/memory-planner/plan-arena.js";

/** Every pair of buffers alive at the same op occupies disjoint bytes (in-place pairs excepted). */
function assertNoLiveOverlap(plan: ArenaPlan): void {
  const { buffers } = plan;
  // Buffers chained in place share bytes; within a chain, lives may touch only at the hand-over op.
  const sharesWith = new Map(buffers.map((buffer) => [buffer.id, buffer.sharesWith]));
  const chainRoot = (id: string): string => {
    const next = sharesWith.get(id);
    return next === undefined ? id : chainRoot(next);
  };
  for (let i = 0; i < buffers.length; i++) {
    for (let j = i + 1; j < buffers.length; j++) {
      const a = buffers[i] as (typeof buffers)[number];
      const b = buffers[j] as (typeof buffers)[number];
      if (chainRoot(a.id) === chainRoot(b.id)) {
        const sharedOps = Math.min(a.lastOp, b.lastOp) - Math.max(a.firstOp, b.firstOp) + 1;
        assert.ok(
          sharedOps <= 1,
          `${a.id} and ${b.id} share bytes but are live together for ${sharedOps} ops`,
        );
        continue;
      }
      const liveTogether = a.firstOp <= b.lastOp && b.firstOp <= a.lastOp;
      const bytesOverlap =
        a.offset < b.offset + b.bytes &&
        b.offset < a.offset + a.bytes &&
        a.bytes > 0 &&
        b.bytes > 0;
      assert.ok(
        !(liveTogether && bytesOverlap),
        `${a.id} [${a.offset}, +${a.bytes}) and ${b.id} [${b.offset}, +${b.bytes}) overlap while both live`,
      );
    }
  }
  for (const buffer of buffers) {
    assert.equal(buffer.offset % plan.alignment, 0, `${buffer.id} is not aligned`);
    assert.ok(buffer.offset + buffer.bytes <= plan.arenaBytes, `${buffer.id} ends past the arena`);
  }
  assert.ok(plan.arenaBytes >= plan.lowerBoundBytes, "no plan beats the live-set lower bound");
  // The per-op live bytes (the report's memory timeline) peak at the lower bound.
  assert.equal(Math.max(0, ...liveBytesByOp(plan)), plan.lowerBoundBytes);
}

describe("arena planner", () => {
  test("a chain reuses memory: ping-pong between two buffers", () => {
    const plan = planArena(
      [
        { id: "input", bytes: 1024, firstOp: 0, lastOp: 0 },
        { id: "t1", bytes: 1024, firstOp: 0, lastOp: 1 },
        { id: "t2", bytes: 1024, firstOp: 1, lastOp: 2 },
        { id: "t3", bytes: 1024, firstOp: 2, lastOp: 3 },
      ],
      { alignment: 16 },
    );
    assert.equal(plan.arenaBytes, 2048);
    assert.equal(plan.lowerBoundBytes, 2048);
    assertNoLiveOverlap(plan);
  });

  test("a residual connection keeps its input alive across the block", () => {
    const plan = planArena([
      { id: "x", bytes: 100, firstOp: 0, lastOp: 3 },
      { id: "a", bytes: 400, firstOp: 1, lastOp: 2 },
      { id: "b", bytes: 100, firstOp: 2, lastOp: 3 },
      { id: "y", bytes: 100, firstOp: 3, lastOp: 4 },
    ]);
    assertNoLiveOverlap(plan);
    assert.equal(plan.lowerBoundBytes, 112 + 400 + 112);
    assert.equal(plan.arenaBytes, plan.lowerBoundBytes);
  });

  test("an element-wise op writes in place over an input it reads for the last time", () => {
    const requests: BufferRequest[] = [
      { id: "conv_out", bytes: 4096, firstOp: 0, lastOp: 1 },
      { id: "act_out", bytes: 4096, firstOp: 1, lastOp: 2, inPlaceOf: "conv_out" },
      { id: "head", bytes: 64, firstOp: 2, lastOp: 3 },
    ];
    const plan = planArena(requests);
    const act = plan.buffers.find((b) => b.id === "act_out");
    assert.equal(act?.sharesWith, "conv_out");
    assert.equal(act?.offset, plan.buffers.find((b) => b.id === "conv_out")?.offset);
    assert.equal(plan.arenaBytes, 4096 + 64);
    assertNoLiveOverlap(plan);
    // Not in place when the input is still needed later: the request is ignored.
    const refused = planArena([
      { id: "x", bytes: 256, firstOp: 0, lastOp: 2 },
      { id: "y", bytes: 256, firstOp: 1, lastOp: 2, inPlaceOf: "x" },
    ]);
    assert.equal(refused.buffers.find((b) => b.id === "y")?.sharesWith, undefined);
    assertNoLiveOverlap(refused);
  });

  test("bad requests are rejected with the buffer named", () => {
    assert.throws(
      () => planArena([{ id: "a", bytes: 1, firstOp: 2, lastOp: 1 }]),
      /buffer a: invalid lifetime \[2, 1\]/,
    );
    assert.throws(
      () =>
        planArena([
          { id: "a", bytes: 1, firstOp: 0, lastOp: 0 },
          { id: "a", bytes: 1, firstOp: 0, lastOp: 0 },
        ]),
      /duplicate buffer id "a"/,
    );
  });

  test("property: random lifetimes, sizes and in-place requests never overlap while live", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = createSeededRandom(seed);
      const ops = 2 + random.nextInt(30);
      const requests: BufferRequest[] = [];
      const count = 1 + random.nextInt(40);
      for (let i = 0; i < count; i++) {
        const firstOp = random.nextInt(ops);
        const lastOp = firstOp + random.nextInt(Math.min(6, ops - firstOp));
        const previous = requests[random.nextInt(requests.length + 1) - 1];
        requests.push({
          id: `b${i}`,
          bytes: random.nextInt(5) === 0 ? random.nextInt(8) : 1 + random.nextInt(5000),
          firstOp,
          lastOp,
          ...(previous !== undefined && random.nextInt(3) === 0 ? { inPlaceOf: previous.id } : {}),
        });
      }
      const alignment = [1, 4, 16][random.nextInt(3)] as number;
      const plan = planArena(requests, { alignment });
      assert.equal(plan.buffers.length, requests.length);
      assertNoLiveOverlap(plan);
    }
  });

  test("deterministic: the same requests give the same plan", () => {
    const requests: BufferRequest[] = Array.from({ length: 20 }, (_, i) => ({
      id: `t${i}`,
      bytes: 64 * ((i * 7) % 5) + 16,
      firstOp: i,
      lastOp: i + (i % 3),
    }));
    assert.deepEqual(planArena(requests), planArena([...requests]));
  });
});
