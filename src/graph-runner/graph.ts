/**
 * The stage DAG: validation, topological order, dependents, and renderings
 * for `tinyformer graph`.
 */
import type { StageDefinition } from "./stage.js";

/** Stages in dependency order; throws on unknown upstreams, duplicates and cycles. */
export function topologicalOrder(stages: readonly StageDefinition[]): StageDefinition[] {
  const byName = new Map<string, StageDefinition>();
  for (const stage of stages) {
    if (byName.has(stage.name)) throw new Error(`duplicate stage name "${stage.name}"`);
    byName.set(stage.name, stage);
  }
  const order: StageDefinition[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (stage: StageDefinition, path: string[]): void => {
    const seen = state.get(stage.name);
    if (seen === "done") return;
    if (seen === "visiting") {
      throw new Error(`dependency cycle: ${[...path, stage.name].join(" → ")}`);
    }
    state.set(stage.name, "visiting");
    for (const name of Object.keys(stage.upstreamOutputs ?? {}))
      if (!stage.upstream.includes(name))
        throw new Error(
          `stage "${stage.name}" selects outputs of "${name}", which is not upstream of it`,
        );
    for (const name of stage.upstream) {
      const dependency = byName.get(name);
      if (dependency === undefined) {
        throw new Error(`stage "${stage.name}" depends on unknown stage "${name}"`);
      }
      visit(dependency, [...path, stage.name]);
    }
    state.set(stage.name, "done");
    order.push(stage);
  };
  for (const stage of stages) visit(stage, []);
  return order;
}

/** `names` and every stage downstream of them. */
export function withDependents(
  stages: readonly StageDefinition[],
  names: Iterable<string>,
): Set<string> {
  const result = new Set(names);
  for (const stage of topologicalOrder(stages)) {
    if (stage.upstream.some((name) => result.has(name))) result.add(stage.name);
  }
  return result;
}

/** `names` and every stage upstream of them: what building them needs. */
export function withDependencies(
  stages: readonly StageDefinition[],
  names: Iterable<string>,
): Set<string> {
  const result = new Set(names);
  for (const stage of topologicalOrder(stages).reverse()) {
    if (result.has(stage.name)) for (const name of stage.upstream) result.add(name);
  }
  return result;
}

export interface GraphJson {
  stages: {
    name: string;
    description: string;
    upstream: readonly string[];
    configKeys: readonly string[];
    tools: string[];
    implemented: boolean;
  }[];
}

export function renderGraphJson(stages: readonly StageDefinition[]): GraphJson {
  return {
    stages: topologicalOrder(stages).map((stage) => ({
      name: stage.name,
      description: stage.description,
      upstream: stage.upstream,
      configKeys: stage.configKeys,
      tools: (stage.tools ?? []).map((tool) => tool.name),
      implemented: stage.run !== undefined,
    })),
  };
}

const mermaidId = (name: string): string => name.replace(/[^A-Za-z0-9_]/g, "_");

export function renderGraphMermaid(stages: readonly StageDefinition[]): string {
  const lines = ["flowchart LR"];
  for (const stage of topologicalOrder(stages)) {
    const label = stage.run === undefined ? `${stage.name} (not implemented)` : stage.name;
    lines.push(`  ${mermaidId(stage.name)}["${label}"]`);
  }
  for (const stage of topologicalOrder(stages)) {
    for (const name of stage.upstream) {
      lines.push(`  ${mermaidId(name)} --> ${mermaidId(stage.name)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export function renderGraphDot(stages: readonly StageDefinition[]): string {
  const lines = ["digraph pipeline {", "  rankdir=LR;", "  node [shape=box];"];
  for (const stage of topologicalOrder(stages)) {
    const style = stage.run === undefined ? ", style=dashed" : "";
    lines.push(
      `  ${JSON.stringify(stage.name)} [tooltip=${JSON.stringify(stage.description)}${style}];`,
    );
  }
  for (const stage of topologicalOrder(stages)) {
    for (const name of stage.upstream) {
      lines.push(`  ${JSON.stringify(name)} -> ${JSON.stringify(stage.name)};`);
    }
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
