/**
 * A throwaway workspace for tests: tinyformer.yaml, the repository's board
 * profile, a small valid recipe and an input directory, in a temp dir.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { packageRoot } from "../../src/project-paths.js";

export const MINIMAL_RECIPE = `seed: 1
dataset:
  format: cifar10-binary
  path: data
search_space:
  stages:
    - { block: mbv2, channels: 8 }
sparsity:
  global_target: 0.5
quantization:
  calibration_images: 16
`;

/**
 * A valid search: choices in the stem, every stage type and the sparsity
 * target. 32 px input: the MobileViT stage runs at 8x8, patch size 2.
 */
export const SEARCH_RECIPE = `seed: 1
dataset:
  format: cifar10-binary
  path: data
search_space:
  stem: { channels: [8, 16] }
  stages:
    - { block: mbv2, channels: [16, 24], expansion: [2, 4], kernel_size: [3, 5], stride: 2 }
    - { block: resnet, depth: [1, 2], channels: [24, 32], stride: 2 }
    - block: mobilevit
      channels: [32, 48]
      embed_dim: [32, 48]
      heads: [2, 4]
      mlp_ratio: [2, 3]
      patch_size: 2
sparsity:
  global_target: [0.3, 0.5, 0.7]
search:
  population: 8
  generations: 2
  parents: 2
training:
  supernas: { epochs: 1, sandwich_random_subnets: 2 }
`;

/**
 * Every real stage in about five seconds: 16 px images from the committed
 * CIFAR-10 subset, a few hundred of them, one epoch each.
 */
export const TINY_RECIPE = `seed: 3
backend: wasm
dataset:
  format: cifar10-binary
  path: ${join(packageRoot, "data", "cifar10-subset")}
  train_limit: 256
  test_limit: 64
  validation_fraction: 0.25
  input_resolution_px: 16
search_space:
  stem: { channels: 8, stride: 1 }
  stages:
    - { block: mbv2, depth: 1, channels: 16, expansion: 2, kernel_size: 3, stride: 2 }
sparsity:
  global_target: 0.5
training:
  supernas: { epochs: 1, batch_size: 32, learning_rate: 0.01 }
  sparsenas: { epochs: 1, batch_size: 32, learning_rate: 0.005, ramp_fraction: 0.5 }
quantization:
  calibration_images: 16
verification:
  host_images: 8
  target_images: 2
`;

export interface TestWorkspace {
  root: string;
  recipe: string;
  logFile: string;
  write(relativePath: string, text: string): Promise<void>;
  read(relativePath: string): Promise<string>;
  exists(relativePath: string): boolean;
  /** Stage names in the order their runs started (all processes). */
  invocations(): string[];
  clearInvocations(): void;
  cleanup(): Promise<void>;
}

export async function createTestWorkspace(recipeText = MINIMAL_RECIPE): Promise<TestWorkspace> {
  const root = await mkdtemp(join(tmpdir(), "tinyformer-test-"));
  const logFile = join(root, "invocations.log");
  await writeFile(logFile, "");
  const write = async (relativePath: string, text: string) => {
    await mkdir(dirname(join(root, relativePath)), { recursive: true });
    await writeFile(join(root, relativePath), text);
  };
  await write(
    "tinyformer.yaml",
    "default_recipe: recipes/test.yaml\ncache_dir: .tinyformer/cache\noutput_dir: build\njobs: 2\n",
  );
  await mkdir(join(root, "boards"));
  await copyFile(
    join(packageRoot, "boards", "stm32f746.yaml"),
    join(root, "boards", "stm32f746.yaml"),
  );
  await write("recipes/test.yaml", recipeText);
  await write("inputs/a.txt", "input a\n");
  await write("inputs/b.txt", "input b\n");
  return {
    root,
    recipe: join(root, "recipes", "test.yaml"),
    logFile,
    write,
    read: (relativePath) => readFile(join(root, relativePath), "utf8"),
    exists: (relativePath) => existsSync(join(root, relativePath)),
    invocations: () =>
      readFileSync(logFile, "utf8")
        .split("\n")
        .filter((line) => line !== ""),
    clearInvocations: () => writeFileSync(logFile, ""),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
