/**
 * A sandwich step: the gradients of every sub-network of the step summed into
 * one update, the students learning from the teacher's predictions, only the
 * elements some sub-network read updated, and only the teacher moving the
 * batch-norm running statistics.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createSupernet, type Supernet } from "../../src/blocks/network.js";
import { computeUsedElements } from "../../src/supernet/region-masks.js";
import { chooseSandwich } from "../../src/supernet/sandwich-choices.js";
import { runSandwichStep } from "../../src/supernet/sandwich-step.js";
import { createOptimizer } from "../../src/training/optimizers.js";
import { loadTf, randomImages, randomizeState } from "../blocks/support.js";
import { MIDDLE, SMALL, SPACE } from "./support.js";

let tf: typeof TfCore;
before(async () => {
  tf = await loadTf();
});

const shape: [number, number, number, number] = [4, 16, 16, 3];

function snapshot(supernet: Supernet): Map<string, Float32Array> {
  return new Map(
    supernet.parameters.all().map((v) => [v.name, (v.dataSync() as Float32Array).slice()]),
  );
}

describe("sandwich step", () => {
  let supernet: Supernet;
  before(() => {
    supernet = createSupernet(SPACE, { classes: 4, inputResolution: 16, seed: 4 });
    randomizeState(tf, supernet.parameters, 5);
  });

  test("sums the teacher's label loss and the students' distillation loss into one update", () => {
    const teacher = supernet.subnet(MIDDLE);
    const student = supernet.subnet(SMALL);
    const before = snapshot(supernet);
    const x = tf.tensor4d(randomImages(shape, 21), shape);
    const y = tf.oneHot(tf.tensor1d([3, 2, 1, 0], "int32"), 4) as TfCore.Tensor2D;
    // What the step should do, computed by hand: SGD, lr 1, no momentum, no decay.
    const expected = new Map<string, Float32Array>();
    tf.tidy(() => {
      const teacherGrads = tf.variableGrads(() => {
        const logits = teacher.apply(x, { training: true, runningStatistics: false });
        return tf.losses.softmaxCrossEntropy(y, logits, undefined, 0.1) as TfCore.Scalar;
      }, teacher.parameters.trainable).grads;
      const soft = tf.softmax(teacher.apply(x, { training: true, runningStatistics: false }));
      const studentGrads = tf.variableGrads(() => {
        const logits = student.apply(x, { training: true, runningStatistics: false });
        return tf.losses.softmaxCrossEntropy(soft, logits) as TfCore.Scalar;
      }, student.parameters.trainable).grads;
      const total = expected;
      for (const grads of [teacherGrads, studentGrads])
        for (const [name, g] of Object.entries(grads)) {
          const values = g.dataSync() as Float32Array;
          const sum = total.get(name) ?? new Float32Array(values.length);
          values.forEach((v, i) => {
            sum[i] = (sum[i] as number) + v;
          });
          total.set(name, sum);
        }
    });
    const optimizer = createOptimizer(
      { kind: "sgd", momentum: 0, weightDecay: 0 },
      supernet.parameters.trainable,
    );
    const result = runSandwichStep({
      supernet,
      optimizer,
      images: x,
      labels: y,
      learningRate: 1,
      labelSmoothing: 0.1,
      choices: [teacher.choice, student.choice],
      distillation: true,
    });
    assert.ok(Number.isFinite(result.loss) && result.accuracy >= 0 && result.accuracy <= 1);
    const used = computeUsedElements([...teacher.regions(), ...student.regions()]);
    for (const variable of supernet.parameters.trainable) {
      const old = before.get(variable.name) as Float32Array;
      const now = variable.dataSync() as Float32Array;
      const gradient = expected.get(variable.name);
      const mask = used.get(variable.name);
      for (let i = 0; i < now.length; i++) {
        const inside = used.has(variable.name) && (mask === undefined || mask[i] === 1);
        if (!inside) {
          assert.equal(now[i], old[i], `${variable.name}[${i}] is outside every sub-network`);
          continue;
        }
        const want = (old[i] as number) - (gradient?.[i] ?? 0);
        assert.ok(
          Math.abs((now[i] as number) - want) <= 1e-4 * Math.max(1, Math.abs(want)),
          `${variable.name}[${i}]: ${now[i]} vs ${want}`,
        );
      }
    }
    optimizer.dispose();
    x.dispose();
    y.dispose();
  });

  test("only the teacher updates the running statistics; decay spares unused slices", () => {
    const teacher = supernet.subnet(SMALL);
    const student = supernet.subnet(MIDDLE);
    const x = tf.tensor4d(randomImages(shape, 22), shape);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 4) as TfCore.Tensor2D;
    // The teacher alone, from a copy of the state: the statistics it leaves.
    const state = supernet.parameters.state.map((v) => tf.keep(tf.clone(v)));
    tf.tidy(() => {
      teacher.apply(x, { training: true });
    });
    const expected = supernet.parameters.state.map((v) => (v.dataSync() as Float32Array).slice());
    supernet.parameters.state.forEach((v, i) => {
      v.assign(state[i] as TfCore.Tensor);
    });
    const before = snapshot(supernet);
    const optimizer = createOptimizer(
      { kind: "adam", weightDecay: 0.5 },
      supernet.parameters.trainable,
    );
    runSandwichStep({
      supernet,
      optimizer,
      images: x,
      labels: y,
      learningRate: 0.01,
      labelSmoothing: 0,
      choices: [teacher.choice, student.choice],
      distillation: false,
    });
    supernet.parameters.state.forEach((v, i) => {
      assert.deepEqual(v.dataSync(), expected[i], `${v.name}: the teacher's statistics`);
    });
    // stage0.block1 belongs to neither sub-network: not decayed.
    for (const variable of supernet.parameters.trainable) {
      if (!variable.name.startsWith("stage0.block1.")) continue;
      assert.deepEqual(variable.dataSync(), before.get(variable.name), variable.name);
    }
    optimizer.dispose();
    for (const t of [x, y, ...state]) t.dispose();
  });

  test("a step's sub-networks: the largest, the smallest and seeded random ones", () => {
    const a = chooseSandwich(SPACE, { seed: 7, step: 12, randomSubnets: 2 });
    const b = chooseSandwich(SPACE, { seed: 7, step: 12, randomSubnets: 2 });
    const c = chooseSandwich(SPACE, { seed: 7, step: 13, randomSubnets: 2 });
    assert.equal(a.length, 4);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.slice(2), c.slice(2));
    assert.equal(a[0]?.stem.channels, 12);
    assert.equal(a[1]?.stem.channels, 8);
    assert.deepEqual(a[0]?.stages[2], {
      block: "mobilevit",
      depth: 2,
      channels: 16,
      embed_dim: 16,
      heads: 2,
      mlp_ratio: 2,
    });
  });
});
