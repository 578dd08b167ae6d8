/**
 * The `tinyformer` command line: parses arguments into options and calls the
 * same API functions a library user would (src/api/). Exit codes: 0 success,
 * 1 a stage failed or the build was interrupted, 2 invalid configuration or
 * usage.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { DEFAULT_BOARD, INIT_DATASETS, shippedBoards } from "../api/init-options.js";
import { UnknownStageError } from "../api/project.js";
import { ConfigError, renderDiagnostic } from "../config/diagnostic.js";
import { displayPath } from "../config/display-path.js";
import type { BackendPreference } from "../config/types.js";
import { WorkspaceNotFoundError } from "../config/workspace-root.js";
import type { StageDefinition } from "../graph-runner/stage.js";
import type { PipelineOptions } from "../pipeline/pipeline.js";
import { packageRoot } from "../project-paths.js";
import { createBuildReporter, type ReporterOutput, type Verbosity } from "./build-reporter.js";

export interface CliOptions {
  /** Replaces the TinyFormer pipeline (tests and benchmarks). */
  createStages?: (options: PipelineOptions) => StageDefinition[];
  output?: ReporterOutput;
  /** Stops `watch`; SIGINT/SIGTERM when absent. */
  signal?: AbortSignal;
}

const backendOption = () =>
  new Option(
    "--backend <name>",
    "TensorFlow.js backend for training stages (overrides the recipe and workspace)",
  ).choices(["auto", "tfjs-node", "wasm", "cpu"]);

const trainingWorkersOption = () =>
  new Option(
    "--training-workers <n>",
    "replicas training the supernas and finetune stages data-parallel (overrides the workspace's training_workers; part of their cache keys)",
  ).argParser((value) => positiveInt(value));

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_INVALID = 2;

const collect = (value: string, previous: string[]) => [...previous, value];
const verboseOption = () =>
  new Option("-v, --verbose", "also print every training batch line").conflicts("quiet");
const quietOption = () =>
  new Option("-q, --quiet", "print only problems and the final line of each build");
const verbosityOf = (opts: { verbose?: boolean; quiet?: boolean }): Verbosity =>
  opts.quiet ? "quiet" : opts.verbose ? "verbose" : "normal";
const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CommanderError(
      EXIT_INVALID,
      "tinyformer.invalidArgument",
      `expected a positive integer, got "${value}"`,
    );
  return n;
};

/** Bytes as a person reads them: `812 B`, `63.1 KB`, `27.4 MB` (powers of 1000). */
function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const output: ReporterOutput = options.output ?? {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  // Progress bars only on an interactive terminal and only with the real
  // streams (an injected output is a test's or a library user's).
  const liveTerminal = async () => {
    if (options.output !== undefined) return undefined;
    const terminal = await import("./terminal-output.js");
    return terminal.wantsLiveOutput() ? terminal.createTerminalOutput() : undefined;
  };
  let exitCode = EXIT_OK;
  // Stage names for the help text; loading the pipeline costs time every
  // other command should not pay.
  const wantsHelp = argv.some((arg) => arg === "--help" || arg === "-h" || arg === "help");
  const stageNames = wantsHelp
    ? (await import("../pipeline/pipeline.js")).STAGE_NAMES.join(", ")
    : "(see --help)";
  const program = new Command("tinyformer")
    .description("Build sparse INT8 inference engines for microcontrollers from YAML recipes.")
    .version(packageVersion(), "-V, --version", "print the version of tinyformer")
    .option("-C, --workspace <dir>", "run as if started in <dir>")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.out(text.replace(/\n$/, "")),
      writeErr: (text) => output.err(text.replace(/\n$/, "")),
    })
    .showHelpAfterError();

  const common = (command: Command) => {
    const cwd = (program.opts().workspace as string | undefined) ?? process.cwd();
    const opts = command.opts();
    return {
      cwd,
      overrides: (opts.set as string[] | undefined) ?? [],
      ...(opts.backend ? { backend: opts.backend as BackendPreference } : {}),
      ...(opts.trainingWorkers === undefined
        ? {}
        : { trainingWorkers: opts.trainingWorkers as number }),
      ...(options.createStages ? { createStages: options.createStages } : {}),
    };
  };
  const withRecipe = (recipe: string | undefined) => (recipe === undefined ? {} : { recipe });

  program
    .command("build")
    .description(
      "build a recipe (default: the workspace's default_recipe), reusing every cached stage",
    )
    .argument("[recipe]", "recipe file")
    .addOption(backendOption())
    .addOption(trainingWorkersOption())
    .option(
      "--set <key=value>",
      "override a recipe key (repeatable), validated like the file",
      collect,
      [],
    )
    .option("-j, --jobs <n>", "stages run at once", positiveInt)
    .option(
      "--force <stage>",
      `rerun this stage even if cached (repeatable); stages: ${stageNames}`,
      collect,
      [],
    )
    .addOption(verboseOption())
    .addOption(quietOption())
    .addOption(
      new Option(
        "--json",
        "print the build's events as JSON Lines, one per line (schemas/build-event.schema.json)",
      ).conflicts(["verbose", "quiet"]),
    )
    .addOption(
      new Option("--dry-run [format]", "print what would run, run nothing").choices([
        "text",
        "json",
      ]),
    )
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  tinyformer build                                  the workspace's default recipe",
        "  tinyformer build recipes/resnet-cifar10.yaml --set training.supernas.epochs=2",
        "  tinyformer build --dry-run                        what would run, and why",
        "  tinyformer build --force verify-target -v         rerun one stage, with batch lines",
        "  tinyformer build --json > events.jsonl            events for scripts",
      ].join("\n"),
    )
    .action(async (recipe: string | undefined, opts, command: Command) => {
      const { openProject } = await import("../api/project.js");
      const { buildProject, planProject, renderDryRunJson } = await import("../api/build.js");
      const project = await openProject({ ...common(command), ...withRecipe(recipe) });
      if (opts.dryRun !== undefined) {
        const plans = await planProject(project, { force: opts.force });
        if (opts.dryRun === "json") output.out(JSON.stringify(renderDryRunJson(plans)));
        else
          for (const plan of plans)
            output.out(`  ${plan.action.padEnd(15)} ${plan.name}: ${plan.reason}`);
        return;
      }
      if (!opts.json) {
        const overrides =
          project.overrides.length === 0 ? "" : ` with --set ${project.overrides.join(" ")}`;
        output.out(`building ${project.scope}${overrides} → ${displayPath(project.outputDir)}`);
      }
      const terminal = opts.json ? undefined : await liveTerminal();
      const result = await buildProject(project, {
        ...(opts.jobs ? { jobs: opts.jobs } : {}),
        force: opts.force,
        onEvent: opts.json
          ? (event) => output.out(JSON.stringify(event))
          : createBuildReporter(terminal ?? output, verbosityOf(opts)),
        signal: options.signal ?? interruptSignal(),
      }).finally(() => terminal?.close());
      if (!result.ok) exitCode = EXIT_FAILED;
      if (opts.json) return;
      const outcome = result.outcomes.report;
      if (outcome === "built" || outcome === "cached") {
        const { printReportSummary } = await import("./report-summary.js");
        printReportSummary(join(project.outputDir, "report", "report.json"), output);
      }
    });

  program
    .command("report")
    .description("print the summary of a recipe's last report (build/<recipe>/report/report.json)")
    .argument("[recipe]", "recipe file")
    .option("--layers", "every layer, in network order (the build prints the costliest five)")
    .action(async (recipe: string | undefined, opts, command: Command) => {
      const { openProject } = await import("../api/project.js");
      const project = await openProject({ ...common(command), ...withRecipe(recipe) });
      const file = join(project.outputDir, "report", "report.json");
      const { existsSync } = await import("node:fs");
      if (!existsSync(file)) {
        output.err(`error: no report at ${displayPath(file)}; run tinyformer build first`);
        exitCode = EXIT_FAILED;
        return;
      }
      const { printReportSummary } = await import("./report-summary.js");
      printReportSummary(file, output, { allLayers: Boolean(opts.layers) });
    });

  program
    .command("status")
    .description("show each stage as fresh, stale (with the reason) or never built")
    .argument("[recipe]", "recipe file")
    .addOption(backendOption())
    .addOption(trainingWorkersOption())
    .option("--set <key=value>", "override a recipe key (repeatable)", collect, [])
    .option("--json", "print JSON for scripts")
    .action(async (recipe: string | undefined, opts, command: Command) => {
      const { openProject } = await import("../api/project.js");
      const { projectStatus } = await import("../api/status.js");
      const project = await openProject({ ...common(command), ...withRecipe(recipe) });
      const status = await projectStatus(project);
      if (opts.json) output.out(JSON.stringify(status));
      else {
        for (const stage of status.stages)
          output.out(`  ${stage.state.padEnd(15)} ${stage.name}: ${stage.reason}`);
        if (status.space !== undefined)
          output.out(
            `space: supernas chose candidate ${status.space.candidate} of ${status.space.candidates} (${status.space.reason}); as a search_space block: ${status.space.file}`,
          );
        const { dir, overrides, current } = status.outputs;
        if (!current && overrides.join("\n") !== project.overrides.join("\n")) {
          const held =
            overrides.length === 0 ? "the recipe without --set" : `--set ${overrides.join(" ")}`;
          output.out(
            `note: ${dir}/ holds the outputs of a build with ${held}; building this configuration replaces them (from the cache where it can)`,
          );
        }
      }
    });

  program
    .command("why")
    .description(
      "explain why a stage would rerun: the first key component that differs from the last build",
    )
    .argument("<stage>", "stage name")
    .argument("[recipe]", "recipe file")
    .addOption(backendOption())
    .addOption(trainingWorkersOption())
    .option("--set <key=value>", "override a recipe key (repeatable)", collect, [])
    .action(async (stage: string, recipe: string | undefined, _opts, command: Command) => {
      const { openProject } = await import("../api/project.js");
      const { explainStage } = await import("../api/status.js");
      const report = await explainStage(
        await openProject({ ...common(command), ...withRecipe(recipe) }),
        stage,
      );
      for (const line of report.lines) output.out(line);
    });

  program
    .command("graph")
    .description("print the stage graph")
    .argument("[recipe]", "recipe file")
    .option("--set <key=value>", "override a recipe key (repeatable)", collect, [])
    .addOption(new Option("--json", "as JSON").conflicts(["mermaid", "dot"]))
    .addOption(new Option("--mermaid", "as a Mermaid flowchart (default)").conflicts(["dot"]))
    .option("--dot", "as Graphviz dot")
    .action(async (recipe: string | undefined, opts, command: Command) => {
      const { openProject } = await import("../api/project.js");
      const graph = await import("../graph-runner/graph.js");
      const project = await openProject({ ...common(command), ...withRecipe(recipe) });
      if (opts.json) output.out(JSON.stringify(graph.renderGraphJson(project.stages), null, 2));
      else if (opts.dot) output.out(graph.renderGraphDot(project.stages).trimEnd());
      else output.out(graph.renderGraphMermaid(project.stages).trimEnd());
    });

  program
    .command("validate")
    .description(
      "check configuration files (default: tinyformer.yaml, recipes/*.yaml, boards/*.yaml)",
    )
    .argument("[files...]", "files to check")
    .action(async (files: string[], _opts, command: Command) => {
      const { validateFiles } = await import("../api/validate.js");
      const result = await validateFiles(files, common(command).cwd);
      for (const diagnostic of result.diagnostics) output.err(renderDiagnostic(diagnostic));
      for (const file of result.unreadable) output.err(`${file}: cannot read file`);
      if (result.diagnostics.length > 0 || result.unreadable.length > 0) {
        exitCode = EXIT_INVALID;
        output.err(
          `${result.diagnostics.length + result.unreadable.length} problem(s) in ${result.checked.length} file(s)`,
        );
      } else {
        output.out(
          `${result.checked.length} file(s) valid: ${result.checked.map((c) => `${c.file} (${c.kind})`).join(", ")}`,
        );
      }
    });

  program
    .command("init")
    .description("create a workspace that builds as it is: settings, a small recipe, a board")
    .argument("[dir]", "the workspace directory, created when missing", ".")
    .addOption(
      new Option("--dataset <format>", "the data's format")
        .choices(INIT_DATASETS)
        .default("cifar10"),
    )
    .option(
      "--data <path>",
      "cifar10: a CIFAR-10 binary directory; image-folder: a folder with one sub-folder of images per class (default for cifar10: the CIFAR-10 subset shipped with TinyFormer)",
    )
    .option(
      "--board <name>",
      `a shipped board: ${wantsHelp ? shippedBoards().join(", ") : "(see --help)"}`,
      DEFAULT_BOARD,
    )
    .option(
      "--force",
      "write into a directory that is not empty, replacing files of the same names",
    )
    .action(async (dir: string, opts, command: Command) => {
      const { initWorkspace, renderInitSummary } = await import("../api/init.js");
      const { dataset, data, board, force } = opts;
      const result = await initWorkspace({
        dir,
        cwd: common(command).cwd,
        dataset,
        data,
        board,
        force,
      });
      for (const line of renderInitSummary(result)) output.out(line);
    });

  program
    .command("watch")
    .description("build, then rebuild whenever the recipe, its board, templates or inputs change")
    .argument("[recipe]", "recipe file")
    .addOption(backendOption())
    .addOption(trainingWorkersOption())
    .option("--set <key=value>", "override a recipe key (repeatable)", collect, [])
    .option("-j, --jobs <n>", "stages run at once", positiveInt)
    .addOption(verboseOption())
    .addOption(quietOption())
    .action(async (recipe: string | undefined, opts, command: Command) => {
      const { watchProject } = await import("../api/watch.js");
      const { printReportSummary } = await import("./report-summary.js");
      const { existsSync } = await import("node:fs");
      const verbosity = verbosityOf(opts);
      const terminal = await liveTerminal();
      const out = terminal ?? output;
      await watchProject({
        ...common(command),
        ...withRecipe(recipe),
        ...(opts.jobs ? { jobs: opts.jobs } : {}),
        signal: options.signal ?? interruptSignal(),
        onEvent: createBuildReporter(out, verbosity),
        // The summary after every build whose report is up to date, as `build` prints it.
        onBuildDone: (project, result) => {
          const outcome = result.outcomes.report;
          if (verbosity === "quiet" || (outcome !== "built" && outcome !== "cached")) return;
          const file = join(project.outputDir, "report", "report.json");
          if (existsSync(file)) printReportSummary(file, out);
        },
      }).finally(() => terminal?.close());
    });

  program
    .command("clean")
    .description("delete the cache and all outputs (the next build starts from scratch)")
    .action(async (_opts, command: Command) => {
      const { loadWorkspace } = await import("../config/load-workspace.js");
      const { cleanWorkspace } = await import("../api/cache.js");
      const removed = await cleanWorkspace(await loadWorkspace(common(command).cwd));
      output.out(`removed ${removed.join(", ")}`);
    });

  const cache = program.command("cache").description("inspect and maintain the cache");
  cache
    .command("gc")
    .description(
      "remove unreferenced objects and leftovers; with --max-bytes, evict least recently used entries",
    )
    .option("--max-bytes <n>", "keep at most this many bytes of objects", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0)
        throw new CommanderError(
          EXIT_INVALID,
          "tinyformer.invalidArgument",
          `--max-bytes expects a non-negative integer, got "${v}"`,
        );
      return n;
    })
    .option("--dry-run", "say what would be removed; remove nothing")
    .action(async (opts, command: Command) => {
      const { loadWorkspace } = await import("../config/load-workspace.js");
      const { gcCache } = await import("../api/cache.js");
      const report = await gcCache(await loadWorkspace(common(command).cwd), {
        ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes as number }),
        dryRun: Boolean(opts.dryRun),
      });
      const verb = report.dryRun ? "would remove" : "removed";
      for (const entry of report.removedEntries) {
        output.out(
          `  ${verb} ${entry.stage} ${entry.key.slice(0, 12)} (${formatBytes(entry.bytes)}, last used ${entry.lastUsed}, took ${(entry.durationMs / 1000).toFixed(1)} s to build)`,
        );
      }
      // What the removal costs: the builds that would have to redo this work.
      const rebuild = report.removedEntries.reduce((sum, entry) => sum + entry.durationMs, 0);
      if (rebuild >= 60_000)
        output.err(
          `warning: ${report.dryRun ? "removing these" : "the entries removed"} costs about ${(rebuild / 60_000).toFixed(1)} minutes of stage runs to rebuild${report.dryRun ? "" : "; `cache gc --dry-run` previews a removal"}`,
        );
      const inUse =
        report.entriesInUse > 0 ? `; kept ${report.entriesInUse} entries a running build uses` : "";
      output.out(
        `${verb} ${report.entriesRemoved} entries, ${report.objectsRemoved} objects (${formatBytes(report.bytesFreed)}), ${report.tempDirsRemoved} leftover work dirs, ${report.resumeDirsRemoved} resume dirs; ${formatBytes(report.bytesRemaining)} remain${inUse}`,
      );
    });
  cache
    .command("keygen")
    .description("create an Ed25519 key pair for signing remote cache entries")
    .argument("<name>", "names the files: <dir>/<name>.key (secret) and <dir>/<name>.pub")
    .option("--dir <dir>", "where to write them", "keys")
    .action(async (name: string, opts: { dir: string }) => {
      const { createSigningKeyFiles } = await import("../api/remote-cache.js");
      const made = await createSigningKeyFiles(opts.dir, name);
      output.out(`wrote ${made.publicFile} (key ${made.id}) and ${made.privateFile} (mode 600)`);
      output.out(
        `trust it: add ${made.publicFile} to remote_cache.trusted_keys in tinyformer.yaml and commit it`,
      );
      output.out(
        `sign with it: keep ${made.privateFile} secret (never commit it); point TINYFORMER_REMOTE_CACHE_SIGNING_KEY at it, or put its contents there (a CI secret)`,
      );
    });
  cache
    .command("ls")
    .description("list cache entries: stage, key, size, when last used")
    .option("--json", "print the listing as JSON")
    .action(async (opts, command: Command) => {
      const { loadWorkspace } = await import("../config/load-workspace.js");
      const { listWorkspaceCache } = await import("../api/cache.js");
      const rows = await listWorkspaceCache(await loadWorkspace(common(command).cwd));
      if (opts.json) {
        output.out(JSON.stringify(rows, null, 2));
        return;
      }
      const width = Math.max(5, ...rows.map((row) => row.stage.length));
      output.out(
        `${"stage".padEnd(width)}  key           files       size  last used                 built in`,
      );
      for (const row of rows) {
        output.out(
          `${row.stage.padEnd(width)}  ${row.key.slice(0, 12)}  ${String(row.files).padStart(5)}  ${formatBytes(row.bytes).padStart(9)}  ${row.lastUsed}  ${(row.durationMs / 1000).toFixed(1)} s`,
        );
      }
      const total = rows.reduce((sum, row) => sum + row.bytes, 0);
      output.out(
        `${rows.length} entries, ${formatBytes(total)} of outputs (objects shared between entries count once on disk)`,
      );
    });
  cache
    .command("verify")
    .description("re-hash every cached object and report corruption")
    .option(
      "--repair",
      "delete corrupt objects and the entries that use them (they rebuild on demand)",
    )
    .action(async (opts, command: Command) => {
      const { loadWorkspace } = await import("../config/load-workspace.js");
      const { verifyWorkspaceCache } = await import("../api/cache.js");
      const report = await verifyWorkspaceCache(
        await loadWorkspace(common(command).cwd),
        Boolean(opts.repair),
      );
      for (const digest of report.corruptObjects) output.err(`corrupt object ${digest}`);
      for (const entry of report.brokenEntries) {
        output.err(
          `entry ${entry.stage}/${entry.key.slice(0, 12)} references ${entry.missing.length} missing or corrupt object(s)`,
        );
      }
      const problems = report.corruptObjects.length + report.brokenEntries.length;
      output.out(
        `checked ${report.objectsChecked} objects: ${problems === 0 ? "all intact" : `${problems} problem(s)${report.repaired ? ", repaired" : "; run `tinyformer cache verify --repair`"}`}`,
      );
      if (problems > 0 && !report.repaired) exitCode = EXIT_FAILED;
    });

  program
    .command("worker")
    .description(
      "run queued jobs (search candidate assessments) for builds whose workspace says executor: queue",
    )
    .option(
      "-c, --concurrency <n>",
      "jobs at once, each in its own sandbox process",
      positiveInt,
      1,
    )
    .option("--name <name>", "this worker's name in builds' progress (default: host:pid)")
    .option(
      "--redis <url>",
      "the queue's Redis (default: TINYFORMER_REDIS_URL, else redis://127.0.0.1:6379)",
    )
    .option(
      "--lock-ms <n>",
      "how long a job's lock lasts unrenewed: a killed worker's job reruns elsewhere after about this long",
      positiveInt,
    )
    .action(async (opts) => {
      const { startWorker } = await import("../api/worker.js");
      const worker = await startWorker({
        concurrency: opts.concurrency as number,
        ...(opts.name ? { name: opts.name as string } : {}),
        ...(opts.redis ? { redisUrl: opts.redis as string } : {}),
        ...(opts.lockMs ? { lockDurationMs: opts.lockMs as number } : {}),
        signal: options.signal ?? interruptSignal(),
        log: output.out,
      });
      await worker.stopped;
    });

  program
    .command("doctor")
    .description(
      "check Node, the ML backend, the C toolchains (with versions) and the remote cache, if any",
    )
    .addOption(backendOption())
    .action(async (opts, command: Command) => {
      const { runDoctor, describeTrainingBackend, measureTrainingSpeed, describeRemoteCache } =
        await import("../api/doctor.js");
      const backend = await doctorBackendPreference(opts.backend, common(command).cwd);
      const checks = [
        ...(await runDoctor({
          describeBackend: () => describeTrainingBackend(backend),
          measureBackend: () => measureTrainingSpeed(backend),
        })),
        ...(await describeRemoteCache(common(command).cwd)),
      ];
      for (const check of checks)
        output.out(
          `  ${check.ok ? "ok     " : "MISSING"} ${check.name.padEnd(18)} ${check.detail}`,
        );
      if (checks.some((check) => !check.ok)) exitCode = EXIT_FAILED;
    });

  try {
    await program.parseAsync(withDryRunFormat(argv), { from: "user" });
    return exitCode;
  } catch (error) {
    return reportError(error, output);
  }
}

/**
 * `--dry-run` takes an optional format (`--dry-run json`), so the parser would
 * read `build --dry-run recipes/x.yaml` as a format and reject it. A bare
 * `--dry-run` not followed by a format is therefore spelled out as
 * `--dry-run=text` before parsing.
 */
function withDryRunFormat(argv: readonly string[]): string[] {
  // Only `build` has the optional format (`cache gc --dry-run` is a plain flag).
  if (commandName(argv) !== "build") return [...argv];
  return argv.map((arg, i) =>
    arg === "--dry-run" && argv[i + 1] !== "text" && argv[i + 1] !== "json"
      ? "--dry-run=text"
      : arg,
  );
}

/** The subcommand: the first argument that is neither a global option nor its value. */
function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-C" || arg === "--workspace") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

function reportError(error: unknown, output: ReporterOutput): number {
  if (error instanceof CommanderError) {
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help"
    )
      return EXIT_OK;
    if (error.code === "tinyformer.invalidArgument") output.err(`error: ${error.message}`);
    return EXIT_INVALID;
  }
  if (error instanceof ConfigError) {
    for (const diagnostic of error.diagnostics) output.err(renderDiagnostic(diagnostic));
    output.err(`${error.diagnostics.length} problem(s); nothing was built`);
    return EXIT_INVALID;
  }
  if (
    error instanceof WorkspaceNotFoundError ||
    error instanceof UnknownStageError ||
    (error instanceof Error &&
      (error.name === "RemoteCacheConfigError" ||
        error.name === "InitError" ||
        error.name === "QueueConnectionError"))
  ) {
    output.err(`error: ${error.message}`);
    return EXIT_INVALID;
  }
  output.err(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT_FAILED;
}

/** `--backend`, else the workspace's preference when there is a workspace, else auto. */
async function doctorBackendPreference(
  flag: BackendPreference | undefined,
  cwd: string,
): Promise<BackendPreference> {
  if (flag !== undefined) return flag;
  const { loadWorkspace } = await import("../config/load-workspace.js");
  return loadWorkspace(cwd).then(
    (workspace) => workspace.config.backend,
    () => "auto",
  );
}

/** Aborted on the first Ctrl-C (or SIGTERM): running stages are cancelled and record nothing. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}
