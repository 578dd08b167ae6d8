import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { resolveOptimizer } from "../../src/stages/training-support.js";
import { createTrainingBackend } from "../../src/training/backend.js";
import { createOptimizer } from "../../src/training/optimizers.js";
import { createReferenceNetwork } from "../../src/training/reference-networks.js";
import { computeLearningRate } from "../../src/training/schedule.js";

/** The optimizer settings of a recipe's SGD training section. */
const sgdRun = { optimizer: "sgd", momentum: 0.9, weight_decay: 1e-4 } as const;

let tf: typeof TfCore;
before(async () => {
  tf = (await createTrainingBackend({ backend: "cpu" })).tf;
});

function close(actual: number, expected: number, label: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${label}: ${actual} vs ${expected}`);
}

describe("cosine schedule with warm-up", () => {
  const options = {
    baseLearningRate: 0.1,
    totalSteps: 110,
    warmupSteps: 10,
    minLearningRate: 0.001,
  };
  test("ramps linearly, peaks, halves at mid-decay and ends at the floor", () => {
    close(computeLearningRate(0, options), 0.01, "first warm-up step");
    close(computeLearningRate(9, options), 0.1, "last warm-up step");
    close(computeLearningRate(10, options), 0.1, "decay start");
    close(computeLearningRate(60, options), 0.001 + 0.5 * 0.099, "midpoint");
    close(computeLearningRate(110, options), 0.001, "end");
    assert.ok(computeLearningRate(30, options) > computeLearningRate(31, options));
  });
});

describe("optimizers", () => {
  test("SGD with momentum follows v = mu v + g, w -= lr v", () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const optimizer = createOptimizer({ kind: "sgd", momentum: 0.5 }, [w]);
    optimizer.step({ [w.name]: tf.tensor1d([1, 1]) }, 0.1); // v = 1; w = 0.9, -2.1
    optimizer.step({ [w.name]: tf.tensor1d([2, 0]) }, 0.1); // v = 2.5, 0.5; w = 0.65, -2.15
    const [a, b] = Array.from(w.dataSync());
    close(a as number, 0.65, "w0");
    close(b as number, -2.15, "w1");
    assert.equal(optimizer.iterations, 2);
    optimizer.dispose();
    w.dispose();
  });

  test("SGD weight decay and Nesterov momentum", () => {
    const w = tf.variable(tf.tensor1d([2]));
    const optimizer = createOptimizer(
      { kind: "sgd", momentum: 0.5, nesterov: true, weightDecay: 0.1 },
      [w],
    );
    // g' = 1 + 0.1*2 = 1.2; v = 1.2; step = g' + mu v = 1.8; w = 2 - 0.18
    optimizer.step({ [w.name]: tf.tensor1d([1]) }, 0.1);
    close(w.dataSync()[0] as number, 1.82, "w");
    optimizer.dispose();
    w.dispose();
  });

  test("a recipe's weight decay reaches every parameter of ResNet-8, batch norm and biases included (as PyTorch's)", () => {
    const network = createReferenceNetwork("resnet", { classes: 10, seed: 1 });
    const trainable = network.parameters.trainable;
    const names = trainable.map((v) => network.parameters.nameOf(v));
    for (const kind of ["/gamma", "/beta", "/bias", "/kernel"])
      assert.ok(
        names.some((name) => name.endsWith(kind)),
        `no ${kind} among the trained parameters`,
      );
    // Every parameter at 0.5 (shifts and biases may start at zero, where decay is invisible).
    for (const v of trainable) tf.tidy(() => v.assign(tf.fill(v.shape, 0.5)));
    const optimizer = createOptimizer(resolveOptimizer(sgdRun), trainable);
    // Zero gradients: only the decay moves the weights, w -= lr * decay * w.
    const zeros = Object.fromEntries(trainable.map((v) => [v.name, tf.zerosLike(v)]));
    optimizer.step(zeros, 100);
    for (const [i, variable] of trainable.entries())
      for (const value of variable.dataSync())
        close(value, 0.5 * (1 - 100 * 1e-4), names[i] as string);
    tf.dispose(Object.values(zeros));
    optimizer.dispose();
    network.parameters.dispose();
  });

  test("Adam's first step moves each weight by about lr against its gradient's sign", () => {
    const w = tf.variable(tf.tensor1d([0, 0, 0]));
    const optimizer = createOptimizer({ kind: "adam" }, [w]);
    optimizer.step({ [w.name]: tf.tensor1d([3, -0.01, 0.5]) }, 0.01);
    const values = Array.from(w.dataSync());
    close(values[0] as number, -0.01, "w0");
    close(values[1] as number, 0.01, "w1");
    close(values[2] as number, -0.01, "w2");
    // Second step with the same gradient: bias-corrected moments are unchanged.
    optimizer.step({ [w.name]: tf.tensor1d([3, -0.01, 0.5]) }, 0.01);
    close(w.dataSync()[0] as number, -0.02, "w0 after two steps");
    optimizer.dispose();
    w.dispose();
  });

  for (const kind of ["sgd", "adam"] as const) {
    test(`${kind}: a variable without a gradient is left alone, momentum and decay included`, () => {
      const used = tf.variable(tf.tensor1d([1, 1]));
      const unused = tf.variable(tf.tensor1d([5, 5]));
      const optimizer = createOptimizer({ kind, weightDecay: 0.1 }, [used, unused]);
      optimizer.step({ [used.name]: tf.tensor1d([1, 1]) }, 0.1);
      optimizer.step({ [used.name]: tf.tensor1d([1, 1]) }, 0.1);
      assert.deepEqual(Array.from(unused.dataSync()), [5, 5]);
      for (const [key, slot] of optimizer.slots())
        if (key.endsWith("/1")) assert.deepEqual(Array.from(slot.dataSync()), [0, 0], key);
      assert.ok((used.dataSync()[0] as number) < 1);
      optimizer.dispose();
      used.dispose();
      unused.dispose();
    });

    test(`${kind}: a mask limits the update, the slots and the decay to the elements used`, () => {
      const w = tf.variable(tf.tensor1d([1, 2, 3, 4]));
      const optimizer = createOptimizer({ kind, weightDecay: 0.1 }, [w]);
      const mask = tf.tensor1d([1, 0, 1, 0], "bool");
      // The gradient of a slice is zero outside it; decay would still move those elements.
      optimizer.step({ [w.name]: tf.tensor1d([1, 0, -1, 0]) }, 0.1, new Map([[w.name, mask]]));
      const values = Array.from(w.dataSync());
      assert.equal(values[1], 2);
      assert.equal(values[3], 4);
      assert.ok((values[0] as number) < 1 && (values[2] as number) > 2.9);
      for (const [key, slot] of optimizer.slots()) {
        const s = Array.from(slot.dataSync());
        assert.equal(s[1], 0, key);
        assert.equal(s[3], 0, key);
      }
      // Unmasked, the same step decays every element.
      const v = tf.variable(tf.tensor1d([1, 2, 3, 4]));
      const plain = createOptimizer({ kind, weightDecay: 0.1 }, [v]);
      plain.step({ [v.name]: tf.tensor1d([1, 0, -1, 0]) }, 0.1);
      assert.ok((v.dataSync()[3] as number) < 4);
      for (const t of [optimizer, plain]) t.dispose();
      for (const t of [w, v, mask]) t.dispose();
    });
  }
});
