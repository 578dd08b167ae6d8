/**
 * The evolutionary operators over candidates (src/search/candidate.ts):
 * random sampling, mutation and crossover. Each takes its random numbers from
 * the stream it is given, so the search decides the seeding (one stream per
 * generation) and a resumed search draws the same numbers.
 *
 * Architecture fields are drawn per field (`pickArchitecture`), layer plans
 * per layer name: a child keeps a parent's plan for a layer both have, and
 * draws one for a layer only it has (a deeper stage, say).
 */
import {
  type ArchitectureChoice,
  largestArchitecture,
  pickArchitecture,
  type SearchSpace,
  sampleArchitecture,
  smallestArchitecture,
} from "../blocks/search-space.js";
import type { SeededRandom } from "../datasets/seeded-random.js";
import { type Candidate, type LayerOptions, type LayerPlan, planLayer } from "./candidate.js";

/** What the operators need to know about the space. */
export interface OperatorSpace {
  readonly searchSpace: SearchSpace;
  /** The options of each conv and linear layer of a sub-network, in forward order. */
  layerOptions(architecture: ArchitectureChoice): readonly LayerOptions[];
}

function draw<T>(random: SeededRandom, values: readonly T[]): T {
  return values[random.nextInt(values.length)] as T;
}

function randomLayer(random: SeededRandom, options: LayerOptions): LayerPlan {
  const target = draw(random, options.targets);
  const blockSize = options.blockSizes.length === 0 ? 0 : draw(random, options.blockSizes);
  return planLayer(options, target, blockSize);
}

/** The value of a field path (`stem.channels`, `stages[2].heads`) in a choice. */
export function architectureValue(architecture: ArchitectureChoice, path: string): number {
  if (path === "stem.channels") return architecture.stem.channels;
  const match = /^stages\[(\d+)\]\.(\w+)$/.exec(path);
  const stage = match === null ? undefined : architecture.stages[Number(match[1])];
  const value =
    stage === undefined
      ? undefined
      : (stage as unknown as Record<string, unknown>)[match?.[2] ?? ""];
  if (typeof value !== "number") throw new Error(`no architecture field ${path}`);
  return value;
}

/** A parent's value when it is still allowed, else a uniform draw. */
function inherit(random: SeededRandom, choices: readonly number[], value: number): number {
  return choices.includes(value) ? value : draw(random, choices);
}

export function sampleCandidate(space: OperatorSpace, random: SeededRandom): Candidate {
  const architecture = sampleArchitecture(space.searchSpace, random);
  const layers = space.layerOptions(architecture).map((options) => randomLayer(random, options));
  return { architecture, layers };
}

/**
 * Each architecture field, and each layer's target and block size, is
 * re-drawn with probability `probability`; layers the parent lacks are drawn.
 */
export function mutateCandidate(
  space: OperatorSpace,
  parent: Candidate,
  random: SeededRandom,
  probability: number,
): Candidate {
  const architecture = pickArchitecture(space.searchSpace, (choices, path) =>
    random.next() < probability
      ? draw(random, choices)
      : inherit(random, choices, architectureValue(parent.architecture, path)),
  );
  const previous = new Map(parent.layers.map((layer) => [layer.name, layer]));
  const layers = space.layerOptions(architecture).map((options) => {
    const old = previous.get(options.name);
    if (old === undefined) return randomLayer(random, options);
    const target = random.next() < probability ? draw(random, options.targets) : old.target;
    const blockSize =
      random.next() < probability && options.blockSizes.length > 0
        ? draw(random, options.blockSizes)
        : (old.blockSize ?? 0);
    return planLayer(options, target, blockSize);
  });
  return { architecture, layers };
}

/** Each architecture field, and each layer's plan as a whole, from one parent or the other. */
export function crossCandidates(
  space: OperatorSpace,
  first: Candidate,
  second: Candidate,
  random: SeededRandom,
): Candidate {
  const architecture = pickArchitecture(space.searchSpace, (choices, path) => {
    const from = random.next() < 0.5 ? first : second;
    return inherit(random, choices, architectureValue(from.architecture, path));
  });
  const firstLayers = new Map(first.layers.map((layer) => [layer.name, layer]));
  const secondLayers = new Map(second.layers.map((layer) => [layer.name, layer]));
  const layers = space.layerOptions(architecture).map((options) => {
    const a = firstLayers.get(options.name);
    const b = secondLayers.get(options.name);
    const pickFirst = random.next() < 0.5;
    const chosen = a !== undefined && b !== undefined ? (pickFirst ? a : b) : (a ?? b);
    if (chosen === undefined) return randomLayer(random, options);
    return planLayer(options, chosen.target, chosen.blockSize ?? 0);
  });
  return { architecture, layers };
}

/**
 * Whole sub-networks at one sparsity target in every layer, each layer with
 * the largest block size it allows: for each target (lowest first) the
 * largest sub-network, then the smallest at the lowest target. Random
 * per-layer draws almost never produce these corners (the densest largest
 * network, say), which are often good starting points.
 */
export function seedCandidates(space: OperatorSpace): Candidate[] {
  const uniform = (architecture: ArchitectureChoice, target: number): Candidate => ({
    architecture,
    layers: space
      .layerOptions(architecture)
      .map((options) => planLayer(options, target, Math.max(0, ...options.blockSizes))),
  });
  const largest = largestArchitecture(space.searchSpace);
  const targets = [
    ...new Set(
      space
        .layerOptions(largest)
        .filter((options) => options.denseReason === undefined)
        .flatMap((options) => options.targets),
    ),
  ].sort((a, b) => a - b);
  const seeds = targets.map((target) => uniform(largest, target));
  const lowest = targets[0];
  if (lowest !== undefined) seeds.push(uniform(smallestArchitecture(space.searchSpace), lowest));
  const unique = new Map(seeds.map((seed) => [JSON.stringify(seed), seed]));
  return [...unique.values()];
}
