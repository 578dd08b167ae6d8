/**
 * Resource predictions as the report takes them: codegen's (the estimate in
 * codegen.json) and, optionally, any other stage's, e.g. the search's
 * prediction for the candidate it chose. A stage offers one by writing a
 * ResourceEstimate (src/resources/estimate-resources.ts) under the key
 * `resourceEstimate` of its JSON summary (sparsenas.json for the search);
 * the report sets each beside the measured figures with its error.
 */
import {
  type EstimateBoard,
  matchProvenance,
  type ResourceEstimate,
} from "../resources/estimate-resources.js";

/** The key of a ResourceEstimate in a stage's JSON summary. */
export const RESOURCE_ESTIMATE_KEY = "resourceEstimate";

export interface ResourcePrediction {
  /** Who predicted: "codegen", "sparsenas", ... */
  source: string;
  flashBytes: number;
  sramBytes: number;
  instructions: number;
  /** Per layer, by op name, when the source predicts per layer. */
  layerInstructions?: ReadonlyMap<string, number>;
  /** Whether both tables were measured on the board with its flags (null: not checked). */
  tablesMatchBoard: boolean | null;
}

/**
 * A prediction from a ResourceEstimate; with `board`, whether its tables
 * were measured on that board with its flags is checked here (codegen's
 * estimate is made without the board, so that a board edit reruns only
 * what reads the board).
 */
export function predictionFromEstimate(
  source: string,
  estimate: ResourceEstimate,
  board?: EstimateBoard,
): ResourcePrediction {
  // Optional chaining: another stage's estimate may predate the provenance fields.
  const tables = [estimate.tables?.costModel, estimate.tables?.footprint];
  const matches = tables.map((t) =>
    t === undefined
      ? null
      : board === undefined
        ? t.matchesBoard
        : matchProvenance(t, board).matchesBoard,
  );
  return {
    source,
    flashBytes: estimate.flashBytes,
    sramBytes: estimate.sramBytes,
    instructions: estimate.instructions,
    layerInstructions: new Map(estimate.layers.map((l) => [l.op, l.instructions])),
    tablesMatchBoard: matches.includes(false) ? false : matches.includes(null) ? null : true,
  };
}

/**
 * The prediction a stage's summary carries under RESOURCE_ESTIMATE_KEY, or
 * undefined when it carries none; a malformed one is an error naming the
 * source, not something to print.
 */
export function readPrediction(
  source: string,
  summary: unknown,
  board?: EstimateBoard,
): ResourcePrediction | undefined {
  if (typeof summary !== "object" || summary === null) return undefined;
  const estimate = (summary as Record<string, unknown>)[RESOURCE_ESTIMATE_KEY];
  if (estimate === undefined) return undefined;
  const e = estimate as Partial<ResourceEstimate>;
  const numbers = [e.flashBytes, e.sramBytes, e.instructions];
  if (
    !numbers.every((n) => typeof n === "number" && Number.isFinite(n)) ||
    !Array.isArray(e.layers)
  )
    throw new Error(
      `${source}: its ${RESOURCE_ESTIMATE_KEY} lacks flashBytes, sramBytes, instructions or layers`,
    );
  return predictionFromEstimate(source, e as ResourceEstimate, board);
}
