/**
 * What a stage declares to the runner. The runner knows nothing about what
 * stages compute: it sees names, versions, dependencies, the configuration
 * keys and files they read, the tools they run, and a `run` function that
 * writes files into a directory.
 */
import type { ToolDefinition, ToolIdentity } from "./tool-probe.js";

/** The resolved configuration tree the stages read keys from (plain JSON). */
export type ConfigTree = Readonly<Record<string, unknown>>;

export interface StageDefinition {
  /** Unique within a pipeline; names cache entries and output directories. */
  name: string;
  /** One line for `graph` and `status`. */
  description: string;
  /**
   * The module that implements the stage (its `import.meta.url`): the digest
   * of everything it can load is part of the key (see code-identity.ts), so
   * any change to the code reruns the stage. Templates and other sources it
   * reads at run time are declared in `fileInputs`.
   */
  implementation: string;
  /** Stages whose outputs this one reads. */
  upstream: readonly string[];
  /**
   * Of an upstream stage, the only outputs this stage reads (by path). Its
   * key then depends on those alone and its view holds only them. Absent for
   * an upstream: all of its outputs.
   */
  upstreamOutputs?: Readonly<Record<string, readonly string[]>>;
  /**
   * Dotted paths into the configuration tree (`training.epochs`, `board.memory.sram`).
   * The stage sees only these, and a change to any other key never reruns it.
   */
  configKeys: readonly string[];
  /**
   * More keys the stage reads only in some configurations, computed from the
   * `configKeys` slice: a stage that searches reads its budgets, one that
   * has nothing to search does not, so editing them reruns only the former.
   * They join the slice (and the key) like `configKeys`.
   */
  conditionalConfigKeys?: (config: StageConfig) => readonly string[];
  /**
   * Files and directories the stage reads, relative to the workspace root or
   * absolute; directories count recursively. Computed from the configuration
   * (a dataset path, say), so it sees the same declared keys as `run`.
   */
  fileInputs?: (config: StageConfig) => readonly string[];
  /** What to tell the user when a declared input is missing (where to put it, how to fetch it). */
  describeMissingInput?: (path: string, config: StageConfig) => string;
  /** External programs the stage runs; their versions are part of the key. */
  tools?: readonly ToolDefinition[];
  /** Absent until the stage's implementation lands: the runner says so and builds nothing. */
  run?: (context: StageContext) => Promise<void>;
}

/** The declared configuration slice: dotted key → value (null when absent). */
export type StageConfig = Readonly<Record<string, unknown>>;

/** Everything a running stage may touch. */
export interface StageContext {
  stage: string;
  config: StageConfig;
  /** Declared input files, absolute paths, sorted, directories expanded. */
  inputFiles: readonly InputFile[];
  /** Resolves a declared input path (relative to the workspace root, or absolute). */
  resolveInput(declared: string): string;
  /** Outputs of each upstream stage. */
  upstream: ReadonlyMap<string, UpstreamOutputs>;
  /** Resolved tools by name. */
  tools: ReadonlyMap<string, ToolIdentity>;
  /** Write outputs here, and nothing else: every file here becomes an output. */
  outDir: string;
  /** Private scratch space, deleted after the run. */
  scratchDir: string;
  /**
   * Where a long run keeps what it needs to resume (created on first use).
   * It belongs to this stage's cache key: a run of the same key after a
   * failure, a cancellation or a kill finds what the interrupted one left; a
   * successful run's is deleted once its outputs are stored. Nothing here is
   * an output, so a stage must produce the same outputs with or without it.
   */
  resumeDir: string;
  /**
   * A directory shared by all runs for tools built once and reused (e.g. an
   * emulator plugin compiled on first use); not part of any output.
   */
  toolCacheDir: string;
  /** Aborted when the build is cancelled or an edit invalidates this run. */
  signal: AbortSignal;
  /**
   * Progress for the CLI (epoch, loss, …); free-form but JSON-serialisable.
   * `detail` marks fine-grained lines (batches) a terminal shows only when asked.
   */
  progress(message: string, data?: Record<string, unknown>, level?: "detail"): void;
  /**
   * How far the current phase is: `done` of `total` `unit`s (`label`, e.g.
   * `epoch 3/6`, says where in it). Cheap; call it per batch or candidate.
   */
  count(done: number, total: number, unit: string, label?: string): void;
}

export interface InputFile {
  /** Absolute path. */
  path: string;
  /** As recorded in the fingerprint: workspace-relative, `/`-separated. */
  key: string;
}

export interface UpstreamOutputs {
  /** Relative output path → absolute read-only path of its bytes. */
  files: ReadonlyMap<string, string>;
  /** Absolute path of one output; throws with a clear message when absent. */
  path(relativePath: string): string;
  /**
   * Lays the outputs out in `directory` (created) as symbolic links to the
   * read-only cached bytes, for code that reads a directory; returns it.
   */
  linkInto(directory: string): Promise<string>;
}
