/**
 * What `tinyformer init` offers, apart from the scaffolding itself: the
 * command line declares its options from these at every start, so this
 * module stays light (init.ts, with the dataset readers, loads only when
 * `init` runs).
 */
import { readdirSync } from "node:fs";
import { builtinBoardsDir } from "../project-paths.js";

export type InitDataset = "cifar10" | "image-folder";

export const INIT_DATASETS: readonly InitDataset[] = ["cifar10", "image-folder"];
/** The board a recipe without `board` builds for (the recipe schema's default). */
export const DEFAULT_BOARD = "stm32f746";

/** The board profiles shipped with TinyFormer, by name, sorted. */
export function shippedBoards(): string[] {
  return readdirSync(builtinBoardsDir)
    .filter((name) => name.endsWith(".yaml"))
    .map((name) => name.slice(0, -".yaml".length))
    .sort();
}
