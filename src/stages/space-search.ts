/**
 * The `space-search` stage: the search space the supernet is built from.
 *
 * A recipe with `supernas:` gets it chosen here, before any training: the
 * candidate spaces drawn from the section are scored by the compute their
 * feasible sub-networks carry under the board's budgets (src/space-search/),
 * and the best is handed on. A recipe with `search_space:` gets it passed
 * through unchanged. Either way the training stages build from this stage's
 * `search-space.json`, so editing the budgets reruns only this (cheap)
 * scoring, and the supernet retrains only when the chosen space changes.
 *
 * Reads:   search_space, supernas; with supernas also seed, sparsity, the
 *          latency budget and the board's memory and compiler keys, and the
 *          dataset's manifest (classes, resolution).
 * Writes:  search-space.json (the space, canonical JSON), search-space.yaml
 *          (a `search_space:` block to paste into a recipe), space-search.json
 *          (every candidate space with its score, the choice and why).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BoardProfile, Recipe, SearchSpaceConfig, SupernasSection } from "../config/types.js";
import type { DatasetManifest } from "../datasets/artifacts.js";
import { canonicalJson } from "../graph-runner/canonical-json.js";
import type { StageContext } from "../graph-runner/stage.js";
import type { StageFactory } from "./index.js";
import { SEARCH_BOARD_KEYS } from "./search-board-keys.js";
import { SEARCH_SPACE_FILE } from "./search-space-output.js";

export const SEARCH_SPACE_YAML = "search-space.yaml";
export const SPACE_SEARCH_REPORT = "space-search.json";

/** space-search.json. */
export interface SpaceSearchReport {
  /** `given`: the recipe's search_space, passed through; `chosen`: scored from `supernas`. */
  readonly mode: "given" | "chosen";
  readonly chosen?: { readonly index: number; readonly reason: string };
  readonly candidates?: readonly {
    readonly index: number;
    readonly space: SearchSpaceConfig;
    readonly score: import("../space-search/score-space.js").SpaceScore;
  }[];
}

export const createSpaceSearchStage: StageFactory = (options) => ({
  implementation: import.meta.url,
  configKeys: ["search_space", "supernas"],
  // Absent keys are null in a stage's configuration.
  conditionalConfigKeys: (config) =>
    config.supernas == null
      ? []
      : ["seed", "sparsity", "search.latency_budget_instructions", ...SEARCH_BOARD_KEYS],
  async run(context) {
    const given = context.config.search_space as SearchSpaceConfig | null;
    if (given != null) {
      await writeOutputs(context, given, { mode: "given" }, [
        "The recipe's own search_space, passed through unchanged.",
      ]);
      context.progress("the recipe gives its search space");
      return;
    }
    const section = context.config.supernas as SupernasSection;
    const [{ chooseSpace }, { createTrainingBackend }, { resolveBudgets }] = await Promise.all([
      import("../space-search/choose-space.js"),
      import("../training/backend.js"),
      import("../search/budgets.js"),
    ]);
    const dataset = context.upstream.get("dataset");
    if (dataset === undefined) throw new Error("space-search needs the dataset stage's outputs");
    const manifest = JSON.parse(
      await readFile(dataset.path("manifest.json"), "utf8"),
    ) as DatasetManifest;
    // Sizes do not depend on the backend: any one gives the same predictions.
    await createTrainingBackend({ backend: options.backend ?? "auto" });
    const budgets = resolveBudgets(
      context.config["board.memory"] as BoardProfile["memory"],
      context.config["search.latency_budget_instructions"] as number,
    );
    context.progress(
      `scoring ${section.candidates} candidate spaces, ${section.samples_per_space} sampled sub-networks each, against flash ${budgets.flashBytes.toLocaleString("en-US")} B, SRAM ${budgets.sramBytes.toLocaleString("en-US")} B${budgets.instructions === undefined ? "" : `, ${budgets.instructions.toLocaleString("en-US")} instructions`}`,
    );
    const choice = chooseSpace(
      section,
      {
        sparsity: context.config.sparsity as Recipe["sparsity"],
        budgets,
        board: {
          name: context.config["board.name"] as string,
          compiler: context.config["board.compiler"] as BoardProfile["compiler"],
        },
        classes: manifest.classNames.length,
        inputResolution: manifest.image.height,
        seed: context.config.seed as number,
      },
      (_scored, done, total) => context.count(done, total, "spaces"),
      context.signal,
    );
    const report: SpaceSearchReport = {
      mode: "chosen",
      chosen: { index: choice.chosen.index, reason: choice.reason },
      candidates: choice.candidates,
    };
    await writeOutputs(context, choice.chosen.space, report, [
      `Chosen by supernas: candidate space ${choice.chosen.index} of ${choice.candidates.length},`,
      `${choice.reason}.`,
      "Paste it into a recipe (in place of its supernas section) to search this space directly.",
    ]);
    context.progress(
      `chose candidate space ${choice.chosen.index}: ${choice.reason}; ${SEARCH_SPACE_YAML} holds it as a search_space block`,
    );
  },
});

async function writeOutputs(
  context: StageContext,
  space: SearchSpaceConfig,
  report: SpaceSearchReport,
  header: readonly string[],
): Promise<void> {
  const { renderSearchSpaceYaml } = await import("../space-search/space-yaml.js");
  await writeFile(join(context.outDir, SEARCH_SPACE_FILE), `${canonicalJson(space)}\n`);
  await writeFile(join(context.outDir, SEARCH_SPACE_YAML), renderSearchSpaceYaml(space, header));
  await writeFile(
    join(context.outDir, SPACE_SEARCH_REPORT),
    `${JSON.stringify(report, null, 2)}\n`,
  );
}
