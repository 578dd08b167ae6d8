/**
 * Static arena planning: every activation tensor and scratch buffer of a
 * straight-line model gets an offset in one arena, so that buffers alive at
 * the same time never overlap. The generated C allocates exactly
 * `arenaBytes`, and the search uses the same function for its SRAM
 * constraint, so the two can never disagree.
 *
 * Time is the index of the op in execution order. A buffer is live from the
 * op that writes it (`firstOp`) to the last op that reads it (`lastOp`),
 * inclusive: an op's inputs and outputs are live together, so they cannot
 * share bytes, except where the op works in place (an element-wise op may
 * write its output over an input it reads for the last time).
 *
 * Placement is greedy by size (largest first, each at the lowest offset that
 * clears every already placed buffer it is live with), the strategy TFLite's
 * arena planner uses; the result is reported next to the live-set lower
 * bound (the largest total of bytes live at one time), which no plan can beat.
 */

export interface BufferRequest {
  /** Unique name, e.g. a tensor name or `scratch:<op>`. */
  id: string;
  bytes: number;
  /** Index of the op that writes it first (model inputs: 0). */
  firstOp: number;
  /** Index of the last op that reads it (model outputs: the last op). */
  lastOp: number;
  /**
   * The buffer this one may overwrite in place: its producer is an
   * element-wise op reading `inPlaceOf` for the last time. Honoured only when
   * that buffer is at least as large and its life ends where this one starts.
   */
  inPlaceOf?: string;
}

export interface PlannedBuffer extends BufferRequest {
  offset: number;
  /** The buffer whose bytes this one reuses in place, when it does. */
  sharesWith?: string;
}

export interface ArenaPlan {
  /** Bytes the arena must have: the end of the highest placed buffer, aligned. */
  arenaBytes: number;
  /** Largest sum of (aligned) bytes live at one op: no plan can use less. */
  lowerBoundBytes: number;
  /** Offsets are multiples of this. */
  alignment: number;
  buffers: PlannedBuffer[];
}

export interface PlanOptions {
  /** @default 16: enough for any SIMD load the kernels do. */
  alignment?: number;
}

/** A group of requests that occupy the same bytes (a chain of in-place ops). */
interface Slot {
  members: BufferRequest[];
  bytes: number;
  firstOp: number;
  lastOp: number;
  offset?: number;
}

export function planArena(
  requests: readonly BufferRequest[],
  options: PlanOptions = {},
): ArenaPlan {
  const alignment = options.alignment ?? 16;
  if (!Number.isInteger(alignment) || alignment < 1)
    throw new Error(`alignment must be a positive integer, got ${alignment}`);
  validateRequests(requests);
  const slots = groupInPlaceChains(requests);
  const align = (n: number) => Math.ceil(n / alignment) * alignment;

  const bySize = [...slots].sort(
    (a, b) =>
      b.bytes - a.bytes ||
      a.firstOp - b.firstOp ||
      (a.members[0]?.id ?? "").localeCompare(b.members[0]?.id ?? ""),
  );
  const placed: Slot[] = [];
  for (const slot of bySize) {
    const conflicts = placed
      .filter((other) => other.firstOp <= slot.lastOp && slot.firstOp <= other.lastOp)
      .sort((a, b) => (a.offset as number) - (b.offset as number));
    let offset = 0;
    for (const other of conflicts) {
      const otherStart = other.offset as number;
      if (offset + align(slot.bytes) <= otherStart) break;
      offset = Math.max(offset, align(otherStart + other.bytes));
    }
    slot.offset = offset;
    placed.push(slot);
  }

  const buffers: PlannedBuffer[] = [];
  for (const slot of slots) {
    const [head, ...rest] = slot.members as [BufferRequest, ...BufferRequest[]];
    buffers.push({ ...head, offset: slot.offset as number });
    let previous = head;
    for (const member of rest) {
      buffers.push({ ...member, offset: slot.offset as number, sharesWith: previous.id });
      previous = member;
    }
  }
  const order = new Map(requests.map((request, index) => [request.id, index]));
  buffers.sort((a, b) => (order.get(a.id) as number) - (order.get(b.id) as number));
  const arenaBytes = align(
    Math.max(0, ...slots.map((slot) => (slot.offset as number) + slot.bytes)),
  );
  return { arenaBytes, lowerBoundBytes: liveSetLowerBound(slots, align), alignment, buffers };
}

function validateRequests(requests: readonly BufferRequest[]): void {
  const ids = new Set<string>();
  for (const request of requests) {
    if (ids.has(request.id)) throw new Error(`duplicate buffer id "${request.id}"`);
    ids.add(request.id);
    if (!Number.isInteger(request.bytes) || request.bytes < 0) {
      throw new Error(
        `buffer ${request.id}: bytes must be a non-negative integer, got ${request.bytes}`,
      );
    }
    if (
      !Number.isInteger(request.firstOp) ||
      !Number.isInteger(request.lastOp) ||
      request.firstOp > request.lastOp
    ) {
      throw new Error(
        `buffer ${request.id}: invalid lifetime [${request.firstOp}, ${request.lastOp}]`,
      );
    }
  }
}

/**
 * Chains in-place requests into slots. A request joins its `inPlaceOf`
 * buffer's slot when that buffer was written by an earlier op and its life
 * ends exactly at the op that writes the request, the buffer is large
 * enough, and no other request already took it over.
 */
function groupInPlaceChains(requests: readonly BufferRequest[]): Slot[] {
  const byId = new Map(requests.map((request) => [request.id, request]));
  const slotOf = new Map<string, Slot>();
  const takenOver = new Set<string>();
  const slots: Slot[] = [];
  const ordered = [...requests].sort((a, b) => a.firstOp - b.firstOp);
  for (const request of ordered) {
    const source = request.inPlaceOf === undefined ? undefined : byId.get(request.inPlaceOf);
    const sourceSlot = source === undefined ? undefined : slotOf.get(source.id);
    const canShare =
      source !== undefined &&
      sourceSlot !== undefined &&
      !takenOver.has(source.id) &&
      source.firstOp < request.firstOp &&
      source.lastOp === request.firstOp &&
      sourceSlot.lastOp === source.lastOp &&
      sourceSlot.bytes >= request.bytes;
    if (canShare && sourceSlot !== undefined && source !== undefined) {
      takenOver.add(source.id);
      sourceSlot.members.push(request);
      sourceSlot.lastOp = Math.max(sourceSlot.lastOp, request.lastOp);
      slotOf.set(request.id, sourceSlot);
      continue;
    }
    const slot: Slot = {
      members: [request],
      bytes: request.bytes,
      firstOp: request.firstOp,
      lastOp: request.lastOp,
    };
    slots.push(slot);
    slotOf.set(request.id, slot);
  }
  return slots;
}

function liveSetLowerBound(slots: readonly Slot[], align: (n: number) => number): number {
  const events = new Map<number, number>();
  for (const slot of slots) {
    events.set(slot.firstOp, (events.get(slot.firstOp) ?? 0) + align(slot.bytes));
    events.set(slot.lastOp + 1, (events.get(slot.lastOp + 1) ?? 0) - align(slot.bytes));
  }
  let live = 0;
  let peak = 0;
  for (const time of [...events.keys()].sort((a, b) => a - b)) {
    live += events.get(time) as number;
    peak = Math.max(peak, live);
  }
  return peak;
}
