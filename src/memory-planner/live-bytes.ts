/**
 * Bytes live at each op of an arena plan, as the planner counts them for
 * its lower bound (plan-arena.ts): a chain of in-place buffers once, each
 * at its aligned size. The report's memory timeline draws it. Kept apart
 * from the planner, which the search runs, so that it is not part of the
 * search's code.
 */
import type { ArenaPlan, PlannedBuffer } from "./plan-arena.js";

/** Index = op, from 0 to the last op any buffer lives to; the largest entry is `lowerBoundBytes`. */
export function liveBytesByOp(plan: ArenaPlan): number[] {
  const align = (n: number) => Math.ceil(n / plan.alignment) * plan.alignment;
  // A buffer that shares another's bytes belongs to the slot its chain starts.
  const byId = new Map(plan.buffers.map((buffer) => [buffer.id, buffer]));
  const head = (buffer: PlannedBuffer): PlannedBuffer => {
    let current = buffer;
    while (current.sharesWith !== undefined) {
      const previous = byId.get(current.sharesWith);
      if (previous === undefined) break;
      current = previous;
    }
    return current;
  };
  const slots = new Map<string, { bytes: number; firstOp: number; lastOp: number }>();
  for (const buffer of plan.buffers) {
    const start = head(buffer);
    const slot = slots.get(start.id);
    if (slot === undefined)
      slots.set(start.id, { bytes: start.bytes, firstOp: buffer.firstOp, lastOp: buffer.lastOp });
    else {
      slot.firstOp = Math.min(slot.firstOp, buffer.firstOp);
      slot.lastOp = Math.max(slot.lastOp, buffer.lastOp);
    }
  }
  const ops = Math.max(-1, ...plan.buffers.map((buffer) => buffer.lastOp)) + 1;
  const live = new Array<number>(ops).fill(0);
  for (const slot of slots.values())
    for (let op = slot.firstOp; op <= slot.lastOp; op++)
      live[op] = (live[op] as number) + align(slot.bytes);
  return live;
}
