/**
 * Resolved configuration types: what the schemas in `schemas/` guarantee
 * after validation with defaults applied. The schemas are the source of truth
 * and carry the field documentation; these mirror them for the compiler.
 */

export type BackendPreference = "auto" | "tfjs-node" | "wasm" | "cpu";

export interface WorkspaceConfig {
  default_recipe: string;
  cache_dir: string;
  output_dir: string;
  jobs: number;
  backend: BackendPreference;
  search_workers: number;
  training_workers: number;
  /** 0: one per available core. */
  evaluation_workers: number;
  executor: "local" | "queue";
  remote_cache?: RemoteCacheConfig;
}

/** `remote_cache` in tinyformer.yaml (defaults filled in by the schema). */
export interface RemoteCacheConfig {
  url?: string;
  namespace: string;
  mode: "read-only" | "read-write";
  timeout_ms: number;
  trusted_keys: string[];
  credentials_env: string;
  signing_key_env: string;
}

/** A search-space field: one value, or the choices a search may pick from. */
export type Choice<T> = T | T[];

export interface MobileNetV2Stage {
  block: "mbv2";
  depth: Choice<number>;
  channels: Choice<number>;
  expansion: Choice<number>;
  kernel_size: Choice<number>;
  stride: 1 | 2;
}

export interface ResNetStage {
  block: "resnet";
  depth: Choice<number>;
  channels: Choice<number>;
  kernel_size: Choice<number>;
  stride: 1 | 2;
}

export interface MobileViTStage {
  block: "mobilevit";
  depth: Choice<number>;
  channels: Choice<number>;
  embed_dim: Choice<number>;
  heads: Choice<number>;
  mlp_ratio: Choice<number>;
  patch_size: 1 | 2 | 4;
  stride: 1 | 2;
}

export type SearchStage = MobileNetV2Stage | ResNetStage | MobileViTStage;

export interface SearchSpaceConfig {
  stem: { channels: Choice<number>; stride: 1 | 2 };
  stages: SearchStage[];
  head: { dropout: number };
}

/** Allowed values of a `supernas` field: a list, one value, or an inclusive range with a step. */
export type AllowedValues = number | number[] | { min: number; max: number; step?: number };

export type BlockType = SearchStage["block"];

/** One stage of the `supernas` space: the block types it may use and the values each field may take. */
export interface SupernasStage {
  blocks: BlockType[];
  depth: AllowedValues;
  channels: AllowedValues;
  expansion: AllowedValues;
  kernel_size: number | number[];
  /** MobileViT only; required when `blocks` lists mobilevit. */
  embed_dim?: AllowedValues;
  heads: AllowedValues;
  mlp_ratio: AllowedValues;
  patch_size: 1 | 2 | 4;
  stride: 1 | 2;
}

/** `supernas:` in a recipe. */
export interface SupernasSection {
  candidates: number;
  samples_per_space: number;
  choices_per_field: number;
  min_feasible_fraction: number;
  stem: { channels: AllowedValues; stride: 1 | 2 };
  stages: SupernasStage[];
  head: { dropout: number };
}

export interface TrainingRun {
  epochs: number;
  budget_minutes: number;
  batch_size: number;
  optimizer: "sgd" | "adam";
  learning_rate: number;
  momentum: number;
  weight_decay: number;
  warmup_epochs: number;
  label_smoothing: number;
  /** Supernet training: random sub-networks per step besides the largest and the smallest. */
  sandwich_random_subnets: number;
  /** Supernet training: in-place distillation from the largest sub-network. */
  distillation: boolean;
}

export interface PruningRun extends Omit<TrainingRun, "sandwich_random_subnets"> {
  ramp_fraction: number;
}

/** SparseNAS settings (`search:`). */
export interface SearchSettings {
  population: number;
  generations: number;
  parents: number;
  mutation_probability: number;
  crossover_fraction: number;
  random_fraction: number;
  finalists: number;
  validation_images: number;
  recalibration_images: number;
  latency_budget_instructions: number;
}

export interface Recipe {
  name?: string;
  description?: string;
  seed: number;
  board: string;
  backend?: BackendPreference;
  dataset: {
    format: "cifar10-binary" | "image-folder";
    path: string;
    test_path?: string;
    sha256: Record<string, string>;
    verify_checksums: boolean;
    train_limit: number;
    test_limit: number;
    validation_fraction: number;
    input_resolution_px: number;
    normalization: { mean: [number, number, number]; std: [number, number, number] };
    augmentation: { random_crop_padding_px: number; horizontal_flip: boolean };
  };
  /** The search space, given directly; absent when `supernas` chooses it. */
  search_space?: SearchSpaceConfig;
  /** SuperNAS: the larger space the search space is chosen from (instead of `search_space`). */
  supernas?: SupernasSection;
  sparsity: {
    /** One target for every prunable layer, or the choices SparseNAS picks from per layer. */
    global_target: Choice<number>;
    per_layer: Record<string, number>;
    block_sizes: (1 | 4 | 8 | 16)[];
    keep_dense: string[];
  };
  search: SearchSettings;
  quantization: {
    calibration_images: number;
    activation_range: "minmax" | "percentile";
    percentile: number;
    evaluation_images: number;
  };
  training: { supernas: TrainingRun; sparsenas: PruningRun };
  verification: { host_images: number; target_images: number };
}

export interface MemoryRegion {
  origin: number;
  size_bytes: number;
}

export interface BudgetRegion extends MemoryRegion {
  reserved_bytes: number;
}

export interface BoardProfile {
  name: string;
  description?: string;
  core: string;
  fpu: string;
  dsp: boolean;
  clock_hz: number;
  memory: { flash: BudgetRegion; sram: BudgetRegion };
  compiler: { cflags: string[]; ldflags: string[] };
  emulator: { machine: string; cpu: string; code: MemoryRegion; ram: MemoryRegion };
}
