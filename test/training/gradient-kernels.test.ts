/**
 * Every gradient kernel we register for wasm must agree with the pure-JS CPU
 * backend's own kernel on random shapes, strides 1 and 2 (and a mixed one),
 * and both paddings.
 *
 * Tolerance: |wasm - cpu| <= 1e-4 + 1e-4 * |cpu| elementwise. Both compute in
 * float32 but sum in different orders (observed differences ~1e-6 on these
 * sizes); a wrong index or padding gives errors of order 1.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createSeededRandom } from "../../src/datasets/seeded-random.js";
import { createTrainingBackend } from "../../src/training/backend.js";
import { sumRows } from "../../src/training/kernels/kernel-support.js";
import { interleavePhases } from "../../src/training/kernels/polyphase.js";
import { wasmGradientKernelConfigs } from "../../src/training/kernels/register.js";

let tf: typeof TfCore;

before(async () => {
  tf = (await createTrainingBackend({ backend: "wasm" })).tf;
});

type Kind = "conv" | "depthwise";

interface Case {
  kind: Kind;
  batch: number;
  size: [number, number];
  inChannels: number;
  /** Output channels for conv, channel multiplier for depthwise. */
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  pad: "same" | "valid";
}

function randomArray(length: number, seed: number): Float32Array {
  const random = createSeededRandom(seed);
  return Float32Array.from({ length }, () => random.next() * 2 - 1);
}

function buildCases(): Case[] {
  const random = createSeededRandom(2024);
  const cases: Case[] = [];
  const strides: [number, number][] = [
    [1, 1],
    [2, 2],
    [1, 2],
  ];
  for (const kind of ["conv", "depthwise"] as const) {
    for (const stride of strides) {
      for (const pad of ["same", "valid"] as const) {
        for (const kernel of [1, 3, 5]) {
          cases.push({
            kind,
            batch: 1 + random.nextInt(3),
            size: [kernel + 2 + random.nextInt(6), kernel + 2 + random.nextInt(6)],
            inChannels: 1 + random.nextInt(5),
            outChannels: kind === "conv" ? 1 + random.nextInt(6) : 1 + random.nextInt(2),
            kernel: [kernel, kernel === 1 ? 1 : kernel - 2 * random.nextInt(2)],
            stride,
            pad,
          });
        }
      }
    }
  }
  // Batch 8 on 8x8 images takes the paths for power-of-two sizes (an extra
  // zero image or extra zero rows before transposing).
  for (const kernel of [1, 3]) {
    for (const stride of [1, 2]) {
      cases.push({
        kind: "conv",
        batch: 8,
        size: [8, 8],
        inChannels: 3,
        outChannels: 5,
        kernel: [kernel, kernel],
        stride: [stride, stride],
        pad: "same",
      });
    }
  }
  return cases;
}

interface Gradients {
  dx: Float32Array;
  dFilter: Float32Array;
}

/** Input and filter gradients of sum(forward(x, filter) * dy) on one backend. */
async function gradientsOn(backend: string, c: Case, seed: number): Promise<Gradients> {
  await tf.setBackend(backend);
  const xShape = [c.batch, c.size[0], c.size[1], c.inChannels];
  const filterShape = [c.kernel[0], c.kernel[1], c.inChannels, c.outChannels];
  const forward = (x: TfCore.Tensor4D, filter: TfCore.Tensor4D): TfCore.Tensor4D =>
    c.kind === "conv"
      ? tf.conv2d(x, filter, c.stride, c.pad)
      : tf.depthwiseConv2d(x, filter, c.stride, c.pad);
  const [dx, dFilter] = tf.tidy(() => {
    const x = tf.tensor4d(
      randomArray(
        xShape.reduce((a, b) => a * b),
        seed,
      ),
      xShape as never,
    );
    const filter = tf.tensor4d(
      randomArray(
        filterShape.reduce((a, b) => a * b),
        seed + 1,
      ),
      filterShape as never,
    );
    const outShape = forward(x, filter).shape;
    const dy = tf.tensor(
      randomArray(
        outShape.reduce((a, b) => a * b),
        seed + 2,
      ),
      outShape,
    );
    const grads = tf.grads((a: TfCore.Tensor, b: TfCore.Tensor) =>
      forward(a as TfCore.Tensor4D, b as TfCore.Tensor4D),
    );
    return grads([x, filter], dy);
  }) as [TfCore.Tensor, TfCore.Tensor];
  const result = { dx: dx.dataSync() as Float32Array, dFilter: dFilter.dataSync() as Float32Array };
  dx.dispose();
  dFilter.dispose();
  return result;
}

function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const a = actual[i] as number;
    const tolerance = 1e-4 + 1e-4 * Math.abs(e);
    if (!(Math.abs(a - e) <= tolerance)) {
      assert.fail(`${label}: element ${i} is ${a}, CPU backend says ${e}`);
    }
  }
}

describe("wasm gradient kernels match the CPU backend", () => {
  for (const [index, c] of buildCases().entries()) {
    const name =
      `${c.kind} x[${c.batch},${c.size.join("x")},${c.inChannels}] ` +
      `k${c.kernel.join("x")} ch${c.outChannels} s${c.stride.join("x")} ${c.pad}`;
    test(name, async () => {
      const expected = await gradientsOn("cpu", c, index * 10);
      const actual = await gradientsOn("wasm", c, index * 10);
      assertClose(actual.dx, expected.dx, `${name} input gradient`);
      assertClose(actual.dFilter, expected.dFilter, `${name} filter gradient`);
    });
  }
});

describe("building blocks", () => {
  test("sumRows equals a float64 column sum, for a prime and a large row count", async () => {
    await tf.setBackend("wasm");
    for (const [rows, columns] of [
      [7919, 3],
      [74054, 5],
    ] as const) {
      const values = randomArray(rows * columns, rows);
      const expected = new Float64Array(columns);
      for (let i = 0; i < values.length; i++) {
        expected[i % columns] = (expected[i % columns] as number) + (values[i] as number);
      }
      const sums = tf.tidy(() => sumRows(tf.tensor2d(values, [rows, columns])).dataSync());
      for (let c = 0; c < columns; c++) {
        const e = expected[c] as number;
        const a = sums[c] as number;
        assert.ok(Math.abs(a - e) <= 1e-3 * Math.sqrt(rows), `column ${c}: ${a} vs ${e}`);
      }
    }
  });

  test("interleavePhases is DepthToSpace", async () => {
    await tf.setBackend("wasm");
    tf.tidy(() => {
      const phased = tf.tensor4d(randomArray(2 * 3 * 4 * 12, 5), [2, 3, 4, 12]);
      const ours = interleavePhases(phased, 2, 3).dataSync();
      const theirs = tf.depthToSpace(phased, 2).dataSync();
      assert.deepEqual(Array.from(ours), Array.from(theirs));
    });
  });
});

describe("registration", () => {
  test("wasm runs our kernels for every gradient we register", () => {
    for (const config of wasmGradientKernelConfigs) {
      const registered = tf.getKernel(config.kernelName, "wasm");
      assert.equal(registered?.kernelFunc, config.kernelFunc, config.kernelName);
    }
  });

  test("kernels leak no tensors and no backend buffers", async () => {
    await tf.setBackend("wasm");
    const x = tf.randomNormal([2, 9, 9, 4]) as TfCore.Tensor4D;
    const filter = tf.randomNormal([3, 3, 4, 5]) as TfCore.Tensor4D;
    const dwFilter = tf.randomNormal([3, 3, 4, 2]) as TfCore.Tensor4D;
    const step = (): void => {
      tf.tidy(() => {
        const g = tf.grads((a: TfCore.Tensor, b: TfCore.Tensor, d: TfCore.Tensor) =>
          tf.add(
            tf.sum(tf.conv2d(a as TfCore.Tensor4D, b as TfCore.Tensor4D, 2, "same")),
            tf.sum(tf.depthwiseConv2d(a as TfCore.Tensor4D, d as TfCore.Tensor4D, 2, "valid")),
          ),
        );
        g([x, filter, dwFilter]);
      });
    };
    step();
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.engine().backend.numDataIds(), buffers);
    tf.dispose([x, filter, dwFilter]);
  });
});
