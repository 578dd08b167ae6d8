/**
 * `npm run bench -- train-throughput [--backends wasm,cpu] [--steps N] [--workers 1,2] [--rounds R] [--accuracy-epochs N]`
 *
 * Training and inference images/s at 32x32, batch 64, for the three
 * reference networks (ResNet-8, MobileNetV2 x0.35, MobileViT-style, built by
 * the block library as a recipe's network is) on every backend that loads,
 * side by side. The pure-JS CPU backend is 50-100x slower,
 * so it runs one small batch (see CPU_BATCH) with no warm-up step (it has
 * no operator setup to amortise).
 *
 * Then, on the fastest backend that loaded (tfjs-node, else wasm), ResNet-8
 * with each data-parallel worker count of `--workers` (bench/_worker-scaling.ts):
 * training and forward-only evaluation, every count measured in each of
 * `--rounds` rounds, medians reported. With `--accuracy-epochs N` (needs
 * ../shared/datasets/cifar10), also the test accuracy of ResNet-8 trained N
 * epochs with each count and with one worker and a second seed
 * (bench/_worker-accuracy.ts), as "accuracy".
 *
 * Last stdout line:
 *   {"images_per_s": {"<backend>/<network>/<train|infer>": n, ...},
 *    "wasm_over_cpu": <wasm / cpu training images/s on mbv2>,
 *    "train_over_infer": {"resnet": r, "mbv2": r, "mobilevit": r},   (wasm)
 *    "workers": {"<count>": {"resnet_train": n, "resnet_eval": n}, ...},
 *    "worker_scaling": {"train": <most workers / 1>, "eval": ...},
 *    "best": {"resnet_train": n, "resnet_eval": n, "workers": <count of the best training rate>}}
 */
import {
  type BackendChoice,
  createTrainingBackend,
  parseBackendChoice,
  type TrainingBackendName,
} from "../src/training/backend.js";
import type { ReferenceNetworkName } from "../src/training/reference-networks.js";
import { type AccuracyRun, measureWorkerAccuracy } from "./_worker-accuracy.js";
import { measureWorkerScaling, type WorkerScaling } from "./_worker-scaling.js";

const BATCH = 64;
/** The pure-JS CPU backend needs minutes per MobileNetV2 step at batch 64. */
const CPU_BATCH = 4;

interface Measurement {
  train: number;
  infer: number;
}

interface Arguments {
  backends: BackendChoice[];
  steps: number;
  workers: number[];
  rounds: number;
  accuracyEpochs: number;
}

function parseArgs(args: string[]): Arguments {
  let backends: BackendChoice[] = ["tfjs-node", "wasm", "cpu"];
  let steps = 3;
  let workers = [1, 2];
  let rounds = 3;
  let accuracyEpochs = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--backends") {
      backends = (args[++i] ?? "").split(",").map((name) => {
        const choice = parseBackendChoice(name);
        if (choice === undefined || choice === "auto") throw new Error(`unknown backend ${name}`);
        return choice;
      });
    } else if (arg === "--steps") {
      steps = Number(args[++i]);
    } else if (arg === "--workers") {
      workers = (args[++i] ?? "").split(",").map(Number);
      if (!workers.every((n) => Number.isInteger(n) && n >= 1))
        throw new Error(`--workers takes counts like 1,2`);
    } else if (arg === "--rounds") {
      rounds = Number(args[++i]);
    } else if (arg === "--accuracy-epochs") {
      accuracyEpochs = Number(args[++i]);
    } else {
      throw new Error(`unknown argument ${arg}`);
    }
  }
  return { backends, steps, workers, rounds, accuracyEpochs };
}

async function measure(
  name: ReferenceNetworkName,
  batch: number,
  steps: number,
  warmUp: boolean,
): Promise<Measurement> {
  const { measureThroughput } = await import("../src/training/throughput.js");
  return measureThroughput(name, { batch, steps, warmUp });
}

export async function main(args: string[]): Promise<void> {
  const { backends, steps, workers, rounds, accuracyEpochs } = parseArgs(args);
  const { referenceNetworkNames } = await import("../src/training/reference-networks.js");
  const imagesPerSecond: Record<string, number> = {};
  const ran = new Map<TrainingBackendName, Record<string, Measurement>>();
  let fastest: Awaited<ReturnType<typeof createTrainingBackend>> | undefined;
  for (const choice of backends) {
    let backend: Awaited<ReturnType<typeof createTrainingBackend>>;
    try {
      backend = await createTrainingBackend({ backend: choice });
    } catch (error) {
      process.stderr.write(
        `skip ${choice}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      continue;
    }
    if (fastest === undefined && backend.name !== "cpu") fastest = backend;
    const slow = backend.name === "cpu";
    const results: Record<string, Measurement> = {};
    for (const network of referenceNetworkNames) {
      const m = await measure(network, slow ? CPU_BATCH : BATCH, slow ? 1 : steps, !slow);
      results[network] = m;
      imagesPerSecond[`${backend.name}/${network}/train`] = round(m.train);
      imagesPerSecond[`${backend.name}/${network}/infer`] = round(m.infer);
      process.stderr.write(
        `${backend.version.padEnd(26)} ${network.padEnd(10)} train ${m.train.toFixed(1).padStart(8)} img/s` +
          `   infer ${m.infer.toFixed(1).padStart(8)} img/s   ratio 1/${(m.infer / m.train).toFixed(1)}\n`,
      );
    }
    ran.set(backend.name, results);
  }
  const wasm = ran.get("wasm");
  const cpu = ran.get("cpu");
  const ratio = (network: string): number | null => {
    const m = wasm?.[network];
    return m === undefined ? null : round(m.train / m.infer, 4);
  };
  const summary = {
    images_per_s: imagesPerSecond,
    wasm_over_cpu:
      wasm?.mbv2 !== undefined && cpu?.mbv2 !== undefined
        ? round(wasm.mbv2.train / cpu.mbv2.train)
        : null,
    train_over_infer: {
      resnet: ratio("resnet"),
      mbv2: ratio("mbv2"),
      mobilevit: ratio("mobilevit"),
    },
  };
  let scaling: WorkerScaling["byWorkers"] = {};
  let accuracy: AccuracyRun[] | null = null;
  if (fastest !== undefined && workers.length > 0) {
    // The per-network loop above switched backends: back to the fastest.
    const backend = await createTrainingBackend({ backend: fastest.name });
    process.stderr.write(
      `data-parallel ResNet-8 on ${backend.version}, workers ${workers.join(", ")}\n`,
    );
    scaling = (await measureWorkerScaling(backend, workers, steps, rounds)).byWorkers;
    if (accuracyEpochs > 0)
      accuracy = await measureWorkerAccuracy(backend, workers, accuracyEpochs);
  }
  const counts = Object.keys(scaling);
  const first = counts[0] === undefined ? undefined : scaling[counts[0]];
  const last = counts.at(-1) === undefined ? undefined : scaling[counts.at(-1) as string];
  const bestCount = counts.reduce<string | undefined>(
    (best, count) =>
      best === undefined || (scaling[count]?.resnet_train ?? 0) > (scaling[best]?.resnet_train ?? 0)
        ? count
        : best,
    undefined,
  );
  const best = bestCount === undefined ? undefined : scaling[bestCount];
  process.stdout.write(
    `${JSON.stringify({
      ...summary,
      workers: scaling,
      accuracy,
      worker_scaling:
        first === undefined || last === undefined
          ? null
          : {
              train: round(last.resnet_train / first.resnet_train, 3),
              eval: round(last.resnet_eval / first.resnet_eval, 3),
            },
      best:
        best === undefined
          ? null
          : {
              resnet_train: best.resnet_train,
              resnet_eval: Math.max(...Object.values(scaling).map((m) => m.resnet_eval)),
              workers: Number(bestCount),
            },
    })}\n`,
  );
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
