/**
 * Locations tests read, resolved from this file so they work from the
 * compiled tree (dist/test/support/) on any machine: the repository root is
 * three levels up, the shared datasets live beside the repository.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repositoryRoot = new URL("../../../", import.meta.url);

export const sharedCifar10Directory = fileURLToPath(
  new URL("../shared/datasets/cifar10/", repositoryRoot),
);

/**
 * `skip` for tests that read the shared CIFAR-10 copy: a user's clone has
 * nothing beside it, so they do not run there and say so in the output.
 */
export const needsSharedCifar10: string | false = existsSync(sharedCifar10Directory)
  ? false
  : `not run: no CIFAR-10 at ${sharedCifar10Directory} (the shared datasets beside the repository)`;

export const committedCifar10Subset = fileURLToPath(
  new URL("data/cifar10-subset/", repositoryRoot),
);

/** The recipes the repository ships (`recipes/`). */
export const shippedRecipesDirectory = fileURLToPath(new URL("recipes/", repositoryRoot));
