/**
 * The hand-over between `space-search` and the training stages: the search
 * space as canonical JSON in `search-space.json`. A module of its own so the
 * training stages read it without loading the space scoring's code (a
 * stage's code is part of its cache key).
 */
import { readFile } from "node:fs/promises";
import type { SearchSpaceConfig } from "../config/types.js";
import type { StageContext } from "../graph-runner/stage.js";

export const SEARCH_SPACE_FILE = "search-space.json";

/** The space a training stage builds from: the space-search stage's output. */
export async function readStageSearchSpace(context: StageContext): Promise<SearchSpaceConfig> {
  const upstream = context.upstream.get("space-search");
  if (upstream === undefined)
    throw new Error(`the ${context.stage} stage needs the space-search stage's outputs`);
  return JSON.parse(await readFile(upstream.path(SEARCH_SPACE_FILE), "utf8")) as SearchSpaceConfig;
}
