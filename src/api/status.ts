/** `tinyformer status` and `tinyformer why`: what is fresh, what is stale and why. */

import { readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { describeDifference } from "../graph-runner/fingerprint.js";
import type { StagePlan } from "../graph-runner/plan.js";
import { BUILD_INFO_FILE, type BuildInfo, planProject } from "./build.js";
import { type Project, requireStage } from "./project.js";

export interface StatusJson {
  stages: { name: string; state: StagePlan["state"]; reason: string }[];
  /**
   * What the output folder holds: the overrides of the build that wrote it
   * and whether every stage's outputs there are the ones this configuration
   * has (false when another configuration, e.g. a `--set` build, wrote them
   * last, or nothing was built yet).
   */
  outputs: { dir: string; overrides: readonly string[]; current: boolean };
  /**
   * When the recipe's `supernas` section chose the search space and that
   * choice is fresh: which candidate, why, and the file holding it as a
   * `search_space:` block.
   */
  space?: { candidate: number; candidates: number; reason: string; file: string };
}

export async function projectStatus(project: Project): Promise<StatusJson> {
  const plans = await planProject(project);
  const info = await readFile(join(project.outputDir, BUILD_INFO_FILE), "utf8")
    .then((text) => JSON.parse(text) as BuildInfo)
    .catch(() => undefined);
  const current =
    info !== undefined &&
    plans.every((plan) => plan.key === undefined || info.keys[plan.name] === plan.key) &&
    plans.some((plan) => plan.key !== undefined);
  const dir = relative(project.workspace.root, project.outputDir).split(sep).join("/");
  const spaceSearch = plans.find((plan) => plan.name === "space-search");
  const space =
    spaceSearch?.state === "fresh" && info?.keys["space-search"] === spaceSearch.key
      ? await chosenSpace(project.outputDir, dir)
      : undefined;
  return {
    stages: plans.map(({ name, state, reason }) => ({ name, state, reason })),
    outputs: { dir, overrides: info?.overrides ?? [], current },
    ...(space === undefined ? {} : { space }),
  };
}

/** The space supernas chose, from the space-search outputs in the output folder (undefined: the recipe gave it). */
async function chosenSpace(outputDir: string, dir: string): Promise<StatusJson["space"]> {
  const report = await readFile(join(outputDir, "space-search", "space-search.json"), "utf8")
    .then(
      (text) =>
        JSON.parse(text) as {
          mode: string;
          chosen?: { index: number; reason: string };
          candidates?: unknown[];
        },
    )
    .catch(() => undefined);
  if (report?.mode !== "chosen" || report.chosen === undefined) return undefined;
  return {
    candidate: report.chosen.index,
    candidates: report.candidates?.length ?? 0,
    reason: report.chosen.reason,
    file: `${dir}/space-search/search-space.yaml`,
  };
}

export interface WhyReport {
  stage: string;
  state: StagePlan["state"];
  /** Human-readable lines, first the verdict, then each differing key component. */
  lines: string[];
}

/**
 * Explains one stage against its last build: the first differing component
 * (recipe keys, input digests, tool versions, the stage's code), or,
 * when an upstream stage must run first, the chain back to the stage whose
 * own inputs changed and why that one did.
 */
export async function explainStage(project: Project, name: string): Promise<WhyReport> {
  requireStage(project, name);
  const plans = await planProject(project);
  const byName = new Map(plans.map((plan) => [plan.name, plan]));
  const plan = byName.get(name) as StagePlan;
  const lines: string[] = [];
  switch (plan.state) {
    case "fresh":
      lines.push(`${name} is fresh: its cache key ${plan.key?.slice(0, 12)} is built`);
      break;
    case "not-implemented":
      lines.push(`${name} will not run: ${plan.reason}`);
      break;
    case "never-built":
      lines.push(
        `${name} has never been built for this recipe${plan.reason === "never built" ? "" : ` (${plan.reason})`}`,
      );
      break;
    case "stale":
      if (plan.staleBecauseOf !== undefined) {
        const cause = byName.get(plan.staleBecauseOf) as StagePlan;
        lines.push(`${name} is stale: upstream ${cause.name} must run first, because:`);
        lines.push(...describeCause(cause));
        lines.push(
          `(${name}'s own key is known only once ${cause.name}'s outputs are; if they come out identical, ${name} stays cached)`,
        );
      } else {
        lines.push(`${name} is stale:`);
        lines.push(...describeCause(plan));
      }
      break;
  }
  if (plan.fromRemote) {
    lines.push(
      `the remote cache has ${name}'s result for key ${plan.key?.slice(0, 12)}: the next build downloads it instead of running it`,
    );
  }
  return { stage: name, state: plan.state, lines };
}

function describeCause(plan: StagePlan): string[] {
  if (plan.differences !== undefined && plan.differences.length > 0) {
    return plan.differences.map(
      (difference, i) => `  ${i === 0 ? "first: " : "also:  "}${describeDifference(difference)}`,
    );
  }
  return [`  ${plan.reason}`];
}
