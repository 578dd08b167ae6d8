/**
 * `npm run bench -- calibrate-resources [--board NAME] [--quick] [--samples FILE]`:
 * calibrates the resource evaluator (src/resources) for a shipped board
 * profile (boards/NAME.yaml, default stm32f746: its compiler flags, its
 * memory map) and writes its two tables:
 *
 * 1. measures the calibration set (test/support/calibration/calibrate-instructions.ts)
 *    like compile-target and verify-target do: device link, plain and
 *    per-layer profile runs under QEMU;
 * 2. links every root's closure (test/support/calibration/calibrate-footprint.ts);
 * 3. fits tf_model.c's code per call and writes templates/c/footprint.json,
 *    after checking that its SRAM prediction equals every program's device
 *    link exactly;
 * 4. fits the cost model and writes templates/c/cost-model.json;
 * 5. validates both on sample candidates it was not fitted to, generated
 *    with the new tables as codegen runs them.
 *
 * Rerun it, and commit the tables, whenever a kernel, the model templates,
 * the harness or the board's compiler flags change (a test fails when a
 * kernel's code no longer has the size the table says).
 *
 * --board      the board profile whose compiler flags the tables are for
 * --quick      a smaller calibration set (for trying a change; do not commit its tables)
 * --samples    also write every layer sample to FILE (JSON), for analysis
 *
 * Last stdout line: {"programs", "layers", "kernels": {name: max relative
 * error}, "model_code_max_relative_error", "calibration": {...},
 * "validation": {"models", "instructions", "flash", "sram"}}, each error
 * as {"max", "mean"} of |estimate - measured| / measured.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildLayerCalls } from "../src/codegen/call-args.js";
import type { ModelPlan } from "../src/codegen/plan-model.js";
import { loadBoardProfile } from "../src/config/load-board.js";
import type { BoardProfile } from "../src/config/types.js";
import { ToolProbe } from "../src/graph-runner/tool-probe.js";
import { builtinBoardsDir } from "../src/project-paths.js";
import { estimateFootprint } from "../src/resources/estimate-footprint.js";
import { estimateResources } from "../src/resources/estimate-resources.js";
import {
  FOOTPRINT_FILE,
  FOOTPRINT_FORMAT,
  type FootprintTable,
} from "../src/resources/footprint-table.js";
import { COST_MODEL_FILE, type CostModelTable } from "../src/sparse-engine/cost-model.js";
import type { KernelWork } from "../src/sparse-engine/kernel-work.js";
import { TARGET_CC } from "../src/toolchain/tools.js";
import {
  measureClosures,
  modelCodeSample,
} from "../test/support/calibration/calibrate-footprint.js";
import {
  calibrationPrograms,
  fitCostModel,
  instructionSamples,
  type LayerSample,
} from "../test/support/calibration/calibrate-instructions.js";
import { type FitSample, fitCoefficients } from "../test/support/calibration/fit-coefficients.js";
import { compileKernelLibrary, measureModel } from "../test/support/calibration/measure-model.js";
import {
  createSampleCandidate,
  randomCandidateSpecs,
} from "../test/support/calibration/sample-candidates.js";
import { renderTableJson } from "../test/support/calibration/table-json.js";

const log = (line: string) => process.stderr.write(`${line}\n`);

interface ErrorStats {
  max: number;
  mean: number;
}

function errorStats(pairs: readonly { estimate: number; measured: number }[]): ErrorStats {
  const errors = pairs.map((p) => Math.abs(p.estimate - p.measured) / p.measured);
  const round = (x: number) => Math.round(x * 1e5) / 1e5;
  return {
    max: round(Math.max(...errors)),
    mean: round(errors.reduce((a, b) => a + b, 0) / errors.length),
  };
}

/** What the footprint checks need of a measured program. */
interface FootprintCheck {
  name: string;
  plan: ModelPlan;
  flashBytes: number;
  sramBytes: number;
}

async function validate(
  board: BoardProfile,
  kernels: ReadonlyMap<string, string>,
  tables: { costModel: CostModelTable; footprint: FootprintTable },
  count: number,
  dir: string,
) {
  const rows: {
    name: string;
    instructions: [number, number];
    flash: [number, number];
    sram: [number, number];
  }[] = [];
  for (const [i, spec] of randomCandidateSpecs(23, count).entries()) {
    const model = await createSampleCandidate(spec);
    const estimate = estimateResources(model, { tables, board });
    const measured = await measureModel(model, {
      board,
      kernels,
      costModel: tables.costModel,
      workDir: join(dir, `validate-${i}`),
    });
    rows.push({
      name: spec.name,
      instructions: [estimate.instructions, measured.instructions],
      flash: [estimate.flashBytes, measured.flashBytes],
      sram: [estimate.sramBytes, measured.sramBytes],
    });
    log(
      `validate ${spec.name}: instructions ${estimate.instructions} / ${measured.instructions}, ` +
        `flash ${estimate.flashBytes} / ${measured.flashBytes}, SRAM ${estimate.sramBytes} / ${measured.sramBytes}`,
    );
    await rm(join(dir, `validate-${i}`), { recursive: true, force: true });
  }
  const stats = (key: "instructions" | "flash" | "sram") =>
    errorStats(rows.map((r) => ({ estimate: r[key][0], measured: r[key][1] })));
  return {
    models: rows.length,
    instructions: stats("instructions"),
    flash: stats("flash"),
    sram: stats("sram"),
  };
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const samplesAt = args.indexOf("--samples");
  const samplesFile = samplesAt >= 0 ? args[samplesAt + 1] : undefined;
  const boardAt = args.indexOf("--board");
  const boardName = boardAt >= 0 ? (args[boardAt + 1] ?? "") : "stm32f746";
  const board = await loadBoardProfile(join(builtinBoardsDir, `${boardName}.yaml`));
  if (board === undefined) throw new Error(`no board profile ${boardName} in ${builtinBoardsDir}`);
  const measuredWith = {
    board: board.name,
    cflags: [...board.compiler.cflags],
    compiler: (await new ToolProbe(undefined).identify(TARGET_CC)).version,
    command: "npm run bench -- calibrate-resources",
  };
  const dir = await mkdtemp(join(tmpdir(), "tf-calibrate-"));
  try {
    const kernels = await compileKernelLibrary(board, join(dir, "kernels"));
    const programs = await calibrationPrograms(
      quick ? { seed: 11, candidates: 4, coverage: 3 } : { seed: 11, candidates: 16, coverage: 8 },
    );
    const layers: (LayerSample & { program: string })[] = [];
    const programSamples: { work: KernelWork; instructions: number }[] = [];
    const modelCode: FitSample[] = [];
    const checks: FootprintCheck[] = [];
    for (const [i, program] of programs.entries()) {
      const started = Date.now();
      const measured = await measureModel(program.model, {
        board,
        kernels,
        weightPolicy: program.weightPolicy,
        // Calibrating: the choice is forced, no table needed.
        costModel: null,
        workDir: join(dir, `program-${i}`),
      });
      const samples = instructionSamples(measured);
      layers.push(...samples.layers.map((s) => ({ ...s, program: program.name })));
      programSamples.push(samples.program);
      modelCode.push(modelCodeSample(measured.program.plan, measured.deviceMap));
      checks.push({
        name: program.name,
        plan: measured.program.plan,
        flashBytes: measured.flashBytes,
        sramBytes: measured.sramBytes,
      });
      log(
        `${i + 1}/${programs.length} ${program.name}: ${measured.instructions} instructions, ` +
          `${measured.program.layers.length} layers (${Date.now() - started} ms)`,
      );
      // The first program's sources stand for all in the closure links.
      if (i > 0) await rm(join(dir, `program-${i}`), { recursive: true, force: true });
    }
    if (samplesFile !== undefined)
      await writeFile(samplesFile, JSON.stringify({ layers, programs: programSamples, modelCode }));

    const closures = await measureClosures({
      board,
      kernels,
      codegenDir: join(dir, "program-0", "codegen"),
      dir: join(dir, "closures"),
    });
    const codeFit = fitCoefficients(modelCode);
    const round = (x: number) => Math.round(x * 1e4) / 1e4;
    const footprint: FootprintTable = {
      format: FOOTPRINT_FORMAT,
      measuredWith: {
        ...measuredWith,
        ldflags: [...board.compiler.ldflags],
        models: programs.length,
      },
      ...closures,
      modelCode: {
        coefficients: Object.fromEntries(
          Object.entries(codeFit.coefficients).map(([k, v]) => [k, round(v)]),
        ),
        samples: codeFit.samples,
        maxRelativeError: round(codeFit.maxRelativeError),
      },
    };
    // SRAM is computed, not fitted: it must be exact on every program.
    const estimates = checks.map((c) => ({
      check: c,
      estimate: estimateFootprint(
        c.plan,
        buildLayerCalls(c.plan.layers, c.plan.memory).flatMap((call) => call.constants),
        footprint,
      ),
    }));
    const wrong = estimates.filter((e) => e.estimate.sramBytes !== e.check.sramBytes);
    if (wrong.length > 0) {
      throw new Error(
        `the SRAM estimate is not exact:\n${wrong
          .map(
            (e) =>
              `  ${e.check.name}: estimated ${e.estimate.sramBytes}, linked ${e.check.sramBytes}`,
          )
          .join("\n")}`,
      );
    }
    await writeFile(FOOTPRINT_FILE, renderTableJson(footprint));
    log(`wrote ${FOOTPRINT_FILE}`);

    const costModel = fitCostModel(
      { layers, programs: programSamples },
      { ...measuredWith, models: programs.length },
    );
    await writeFile(COST_MODEL_FILE, renderTableJson(costModel));
    log(`wrote ${COST_MODEL_FILE} from ${layers.length} layers of ${programs.length} programs`);

    const validation = await validate(board, kernels, { costModel, footprint }, quick ? 3 : 8, dir);
    process.stdout.write(
      `${JSON.stringify({
        programs: programs.length,
        layers: layers.length,
        kernels: Object.fromEntries(
          Object.entries(costModel.kernels).map(([k, v]) => [k, v.maxRelativeError]),
        ),
        model_code_max_relative_error: footprint.modelCode.maxRelativeError,
        calibration: {
          flash: errorStats(
            estimates.map((e) => ({
              estimate: e.estimate.flashBytes,
              measured: e.check.flashBytes,
            })),
          ),
          sram: errorStats(
            estimates.map((e) => ({ estimate: e.estimate.sramBytes, measured: e.check.sramBytes })),
          ),
        },
        validation,
      })}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
