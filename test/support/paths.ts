/**
 * Locations tests read, resolved from this file so they work from the
 * compiled tree (dist/test/support/) on any machine: the repository root is
 * three levels up, the shared datasets live beside the repository.
 */
import { fileURLToPath } from "node:url";

const repositoryRoot = new URL("../../../", import.meta.url);

export const sharedCifar10Directory = fileURLToPath(
  new URL("../shared/datasets/cifar10/", repositoryRoot),
);

export const committedCifar10Subset = fileURLToPath(
  new URL("data/cifar10-subset/", repositoryRoot),
);

/** The recipes the repository ships (`recipes/`). */
export const shippedRecipesDirectory = fileURLToPath(new URL("recipes/", repositoryRoot));
