/**
 * A data-parallel training replica, run by a worker thread (worker-main.ts):
 * builds a replica of the trainer's supernet (and teacher) on its own
 * TensorFlow.js backend instance, then for every request reads the current
 * parameters from shared memory and computes what it asks: a step's
 * gradients on its shard (`computeReplicaGradients`), written with its
 * running statistics after the step into its result buffer; the summed loss
 * and hits of an evaluation; or recalibrated running statistics. It never
 * updates weights: the trainer applies one update to the summed gradients.
 */
import type { MessagePort } from "node:worker_threads";
import type * as TfCore from "@tensorflow/tfjs-core";
import type { FromReplica, ReplicaSetup, ToReplica } from "./protocol.js";

/** Builds the replica `setup` describes, then answers `port`'s requests until the thread ends. */
export async function serveReplica(port: MessagePort, setup: ReplicaSetup): Promise<void> {
  const post = (message: FromReplica) => port.postMessage(message);
  try {
    const [
      { createTrainingBackend },
      { createSupernet },
      loop,
      replica,
      layouts,
      { recalibrateBatchNorm },
    ] = await Promise.all([
      import("../training/backend.js"),
      import("../blocks/network.js"),
      import("../training/loop.js"),
      import("./replica-step.js"),
      import("./variable-layout.js"),
      import("../supernet/recalibrate.js"),
    ]);
    const backend = await createTrainingBackend({ backend: setup.backend });
    if (backend.version !== setup.backendVersion) {
      throw new Error(
        `the worker loaded ${backend.version}, the trainer runs ${setup.backendVersion}`,
      );
    }
    const tf: typeof TfCore = backend.tf;
    const supernet = createSupernet(setup.searchSpace, setup.networkOptions);
    const layout = layouts.createVariableLayout(supernet.parameters);
    let teacher: ReturnType<typeof createSupernet> | undefined;
    if (setup.teacher !== undefined) {
      teacher = createSupernet(setup.teacher.searchSpace, setup.teacher.networkOptions);
      layouts.readVariables(layouts.createVariableLayout(teacher.parameters), setup.teacher.values);
    }
    const parameters = new Float32Array(setup.parameters);
    const results = new Float32Array(setup.results);
    if (parameters.length !== layout.size || results.length !== layout.size) {
      throw new Error(
        `the worker's supernet has ${layout.size} values, the trainer's ${parameters.length}`,
      );
    }
    const networks = teacher === undefined ? { supernet } : { supernet, teacher };
    const writeState = () => {
      for (const [index, variable] of layout.variables.entries()) {
        if (!variable.trainable)
          layouts.layoutView(layout, results, index).set(variable.dataSync() as Float32Array);
      }
    };
    port.on("message", (message: ToReplica) => {
      try {
        layouts.readVariables(layout, parameters);
        if (message.kind === "evaluate") {
          const { lossSum, correct } = loop.sumEvaluation(
            supernet.subnet(message.choice),
            message.images,
            message.labels,
            setup.geometry,
            setup.classes,
            setup.normalization,
            message.batchSize,
          );
          post({ kind: "evaluated", id: message.id, lossSum, correct });
          return;
        }
        if (message.kind === "recalibrate") {
          recalibrateBatchNorm(supernet.subnet(message.choice), {
            images: {
              ...setup.geometry,
              count: message.labels.length,
              images: message.images,
              labels: message.labels,
              classNames: Array.from({ length: setup.classes }, (_, i) => String(i)),
            },
            normalization: setup.normalization,
            batchSize: message.batchSize,
          });
          writeState();
          post({ kind: "recalibrated", id: message.id });
          return;
        }
        const done = tf.tidy(() => {
          const { x, y } = loop.createBatchTensors(
            message.images,
            message.labels,
            setup.geometry,
            setup.classes,
            setup.normalization,
          );
          const step = replica.computeReplicaGradients(
            networks,
            message.step,
            x,
            y,
            message.labelSmoothing,
          );
          const gradients: number[] = [];
          for (const [name, gradient] of Object.entries(step.grads)) {
            const index = layout.indexByName.get(name);
            if (index === undefined) throw new Error(`gradient of unknown variable ${name}`);
            layouts.layoutView(layout, results, index).set(gradient.dataSync() as Float32Array);
            gradients.push(index);
          }
          const { loss, accuracy } = loop.readStepResult(step.loss, step.accuracy);
          return { loss, accuracy, gradients: gradients.sort((a, b) => a - b) };
        });
        // Running statistics after this shard's forward pass.
        writeState();
        post({ kind: "done", id: message.id, ...done });
      } catch (error) {
        post({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
      }
    });
    post({ kind: "ready" });
  } catch (error) {
    post({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
  }
}
