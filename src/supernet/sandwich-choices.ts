/**
 * The sub-networks one supernet training step trains (the sandwich rule): the
 * largest, the smallest, and `randomSubnets` drawn uniformly per field from a
 * stream seeded by (seed, step), so a step's choices depend on nothing else
 * and a resumed or repeated run draws the same ones.
 */
import {
  type ArchitectureChoice,
  largestArchitecture,
  type SearchSpace,
  sampleArchitecture,
  smallestArchitecture,
} from "../blocks/search-space.js";
import { createSeededRandom, deriveSeed } from "../datasets/seeded-random.js";

export function chooseSandwich(
  space: SearchSpace,
  options: { readonly seed: number; readonly step: number; readonly randomSubnets: number },
): ArchitectureChoice[] {
  const random = createSeededRandom(deriveSeed(options.seed, `sandwich/${options.step}`));
  return [
    largestArchitecture(space),
    smallestArchitecture(space),
    ...Array.from({ length: options.randomSubnets }, () => sampleArchitecture(space, random)),
  ];
}
