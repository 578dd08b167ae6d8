/**
 * A fine-tuning step with a teacher (`training.sparsenas.distillation`): the
 * loss is the mean of the label term (with label smoothing) and the term
 * against the frozen teacher's softmax, and one optimizer update follows its
 * gradient; the teacher does not move.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createSupernet } from "../../src/blocks/network.js";
import { runDistillationStep } from "../../src/supernet/distillation-step.js";
import { createOptimizer } from "../../src/training/optimizers.js";
import { loadTf, randomImages, randomizeState } from "../blocks/support.js";
import { LARGE, SMALL, SPACE } from "./support.js";

let tf: typeof TfCore;
before(async () => {
  tf = await loadTf();
});

const shape: [number, number, number, number] = [4, 16, 16, 3];

describe("distillation step", () => {
  test("updates the student along the mean of the label and teacher losses", () => {
    const studentNet = createSupernet(SPACE, { classes: 4, inputResolution: 16, seed: 6 });
    const teacherNet = createSupernet(SPACE, { classes: 4, inputResolution: 16, seed: 7 });
    randomizeState(tf, studentNet.parameters, 8);
    randomizeState(tf, teacherNet.parameters, 9);
    const student = studentNet.subnet(SMALL);
    const teacher = teacherNet.subnet(LARGE);
    const x = tf.tensor4d(randomImages(shape, 31), shape);
    const y = tf.oneHot(tf.tensor1d([1, 3, 0, 2], "int32"), 4) as TfCore.Tensor2D;
    const teacherBefore = teacherNet.parameters
      .all()
      .map((v) => (v.dataSync() as Float32Array).slice());
    const studentBefore = new Map(
      student.parameters.trainable.map((v) => [v.name, (v.dataSync() as Float32Array).slice()]),
    );

    // The loss and gradients, by hand; the student's pass leaves its running
    // statistics alone so that the step below starts from the same state.
    const expected = { loss: 0, grads: new Map<string, Float32Array>() };
    tf.tidy(() => {
      const soft = tf.softmax(teacher.apply(x, { training: false }));
      const { value, grads } = tf.variableGrads(() => {
        const logits = student.apply(x, { training: true, runningStatistics: false });
        const hard = tf.losses.softmaxCrossEntropy(y, logits, undefined, 0.1);
        const distilled = tf.losses.softmaxCrossEntropy(soft, logits);
        return tf.mul(tf.add(hard, distilled), 0.5) as TfCore.Scalar;
      }, student.parameters.trainable);
      expected.loss = value.dataSync()[0] as number;
      for (const [name, g] of Object.entries(grads))
        expected.grads.set(name, (g.dataSync() as Float32Array).slice());
    });

    const optimizer = createOptimizer(
      { kind: "sgd", momentum: 0, weightDecay: 0 },
      student.parameters.trainable,
    );
    const result = runDistillationStep(
      {
        network: student,
        optimizer,
        images: x,
        labels: y,
        learningRate: 1,
        labelSmoothing: 0.1,
        step: 0,
      },
      (images) => teacher.apply(images, { training: false }),
    );
    assert.ok(
      Math.abs(result.loss - expected.loss) <= 1e-5 * Math.max(1, expected.loss),
      `loss ${result.loss} vs ${expected.loss}`,
    );
    let moved = 0;
    for (const variable of student.parameters.trainable) {
      const old = studentBefore.get(variable.name) as Float32Array;
      const now = variable.dataSync() as Float32Array;
      const gradient = expected.grads.get(variable.name);
      for (let i = 0; i < now.length; i++) {
        const want = (old[i] as number) - (gradient?.[i] ?? 0);
        if (now[i] !== old[i]) moved++;
        assert.ok(
          Math.abs((now[i] as number) - want) <= 1e-4 * Math.max(1, Math.abs(want)),
          `${variable.name}[${i}]: ${now[i]} vs ${want}`,
        );
      }
    }
    assert.ok(moved > 0, "the step updated the student");
    teacherNet.parameters.all().forEach((v, index) => {
      assert.deepEqual(v.dataSync(), teacherBefore[index], `teacher ${v.name} is frozen`);
    });
    optimizer.dispose();
    x.dispose();
    y.dispose();
    studentNet.dispose();
    teacherNet.dispose();
  });
});
