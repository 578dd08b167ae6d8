/**
 * The float forward of the IR must compute what the tfjs blocks compute:
 * NHWC, tfjs 'same' / 'valid' padding, depthwise channel order, population
 * variance in LayerNorm, exact-erf GELU, softmax. Each op is run through the
 * interpreter and through tfjs-core on the pure-JS CPU backend.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { runFloat } from "../../src/interpreter/run.js";
import { createModelBuilder, type FloatOpSpec } from "../../src/model-ir/builder.js";
import { createGaussian } from "../support/sample-models.js";

const gauss = createGaussian(17);
const randn = (n: number) => Float32Array.from({ length: n }, () => gauss());

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    assert.ok(Math.abs(g - w) <= tol * (1 + Math.abs(w)), `[${i}] ${g} vs ${w}`);
  }
}

/** Runs one op on one input with the given constants. */
function runOne(
  inputShape: number[],
  x: Float32Array,
  constants: Array<{ name: string; shape: number[]; values: Float32Array }>,
  spec: FloatOpSpec,
): Float32Array {
  const b = createModelBuilder("one");
  b.input("x", inputShape);
  for (const c of constants) b.constant(c.name, c.shape, c.values);
  b.output(b.op(spec));
  const out = runFloat(b.finish(), x).outputs[0];
  assert.ok(out !== undefined);
  return out;
}

describe("float forward matches tfjs", () => {
  before(async () => {
    await tf.setBackend("cpu");
  });

  for (const [stride, padding, size] of [
    [2, "same", 8],
    [2, "same", 7],
    [1, "valid", 6],
    [1, "same", 5],
  ] as const) {
    it(`conv2d 3x3 stride ${stride} ${padding} on ${size}x${size}`, () => {
      const x = randn(size * size * 3);
      const w = randn(4 * 3 * 3 * 3); // OHWI
      const bias = randn(4);
      const got = runOne(
        [1, size, size, 3],
        x,
        [
          { name: "w", shape: [4, 3, 3, 3], values: w },
          { name: "b", shape: [4], values: bias },
        ],
        {
          type: "conv2d",
          name: "y",
          inputs: ["x", "w", "b"],
          attrs: {
            strides: [stride, stride],
            dilations: [1, 1],
            padding,
            groups: 1,
            activation: "relu6",
          },
        },
      );
      const want = tf.tidy(() => {
        const filter = tf.transpose(tf.tensor4d(w, [4, 3, 3, 3]), [1, 2, 3, 0]);
        const y = tf.add(
          tf.conv2d(tf.tensor4d(x, [1, size, size, 3]), filter as tf.Tensor4D, stride, padding),
          tf.tensor1d(bias),
        );
        return tf.clipByValue(y, 0, 6).dataSync();
      });
      assertClose(got, want);
    });
  }

  it("depthwise conv2d with channel multiplier 2, stride 2, same", () => {
    const x = randn(6 * 6 * 3);
    const w = randn(6 * 3 * 3); // [C*m, KH, KW, 1]
    const got = runOne([1, 6, 6, 3], x, [{ name: "w", shape: [6, 3, 3, 1], values: w }], {
      type: "conv2d",
      name: "y",
      inputs: ["x", "w"],
      attrs: { strides: [2, 2], dilations: [1, 1], padding: "same", groups: 3, activation: "none" },
    });
    const want = tf.tidy(() => {
      const filter = tf.transpose(tf.reshape(tf.tensor(w, [6, 3, 3]), [3, 2, 3, 3]), [2, 3, 0, 1]);
      return tf
        .depthwiseConv2d(tf.tensor4d(x, [1, 6, 6, 3]), filter as tf.Tensor4D, 2, "same")
        .dataSync();
    });
    assertClose(got, want);
  });

  it("linear and matmul with transposeB and alpha", () => {
    const x = randn(5 * 8);
    const w = randn(6 * 8);
    const got = runOne([5, 8], x, [{ name: "w", shape: [6, 8], values: w }], {
      type: "linear",
      name: "y",
      inputs: ["x", "w"],
      attrs: { activation: "none" },
    });
    assertClose(
      got,
      tf.tidy(() =>
        tf.matMul(tf.tensor2d(x, [5, 8]), tf.tensor2d(w, [6, 8]), false, true).dataSync(),
      ),
    );
    const b = createModelBuilder("mm");
    b.input("a", [2, 3, 4]);
    b.input("c", [2, 5, 4]);
    b.output(
      b.op({
        type: "matmul",
        name: "y",
        inputs: ["a", "c"],
        attrs: { transposeB: true, alpha: 0.5 },
      }),
    );
    const a = randn(24);
    const c = randn(40);
    const mm = runFloat(b.finish(), [a, c]).outputs[0] ?? new Float32Array();
    const want = tf.tidy(() =>
      tf
        .mul(tf.matMul(tf.tensor3d(a, [2, 3, 4]), tf.tensor3d(c, [2, 5, 4]), false, true), 0.5)
        .dataSync(),
    );
    assertClose(mm, want);
  });

  it("layer_norm uses the population variance (tf.moments)", () => {
    const x = randn(4 * 10).map((v) => v * 3 + 1);
    const gamma = randn(10);
    const beta = randn(10);
    const got = runOne(
      [1, 4, 10],
      x,
      [
        { name: "g", shape: [10], values: gamma },
        { name: "b", shape: [10], values: beta },
      ],
      {
        type: "layer_norm",
        name: "y",
        inputs: ["x", "g", "b"],
        attrs: { epsilon: 1e-3 },
      },
    );
    const want = tf.tidy(() => {
      const t = tf.tensor3d(x, [1, 4, 10]);
      const { mean, variance } = tf.moments(t, -1, true);
      return tf
        .add(
          tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-3))), tf.tensor1d(gamma)),
          tf.tensor1d(beta),
        )
        .dataSync();
    });
    assertClose(got, want);
  });

  it("gelu (erf form), silu, hard_swish and softmax", () => {
    const x = randn(64).map((v) => v * 3);
    const act = (fn: "gelu" | "silu" | "hard_swish") =>
      runOne([64], x, [], {
        type: "activation",
        name: "y",
        inputs: ["x"],
        attrs: { function: fn },
      });
    const t = () => tf.tensor1d(x);
    // tfjs erf uses a 1.5e-7 polynomial; the tolerance covers it.
    assertClose(
      act("gelu"),
      tf.tidy(() =>
        tf.mul(tf.mul(t(), 0.5), tf.add(1, tf.erf(tf.div(t(), Math.SQRT2)))).dataSync(),
      ),
      1e-5,
    );
    assertClose(
      act("silu"),
      tf.tidy(() => tf.mul(t(), tf.sigmoid(t())).dataSync()),
      1e-5,
    );
    assertClose(
      act("hard_swish"),
      tf.tidy(() => tf.div(tf.mul(t(), tf.relu6(tf.add(t(), 3))), 6).dataSync()),
      1e-6,
    );
    const sm = runOne([4, 16], x, [], {
      type: "softmax",
      name: "y",
      inputs: ["x"],
      attrs: { beta: 1 },
    });
    assertClose(
      sm,
      tf.tidy(() => tf.softmax(tf.tensor2d(x, [4, 16])).dataSync()),
      1e-5,
    );
  });

  it("avg_pool2d same excludes padding like tfjs", () => {
    const x = randn(5 * 5 * 2);
    const got = runOne([1, 5, 5, 2], x, [], {
      type: "avg_pool2d",
      name: "y",
      inputs: ["x"],
      attrs: { poolSize: [3, 3], strides: [2, 2], padding: "same" },
    });
    assertClose(
      got,
      tf.tidy(() => tf.avgPool(tf.tensor4d(x, [1, 5, 5, 2]), 3, 2, "same").dataSync()),
    );
  });

  it("unfold equals the reshape/transpose formulation of MobileViT", () => {
    const x = randn(4 * 6 * 3);
    const got = runOne([1, 4, 6, 3], x, [], {
      type: "unfold",
      name: "y",
      inputs: ["x"],
      attrs: { patchSize: [2, 2] },
    });
    // [B, H/ph, ph, W/pw, pw, C] -> [B, ph, pw, H/ph, W/pw, C]
    const want = tf.tidy(() =>
      tf.transpose(tf.reshape(tf.tensor(x), [1, 2, 2, 3, 2, 3]), [0, 2, 4, 1, 3, 5]).dataSync(),
    );
    assertClose(got, want, 0);
  });

  it("grouped conv2d equals per-group tfjs convolutions", () => {
    const x = randn(5 * 5 * 4);
    const w = randn(6 * 3 * 3 * 2); // O=6, groups=2: [6, 3, 3, 2]
    const got = runOne([1, 5, 5, 4], x, [{ name: "w", shape: [6, 3, 3, 2], values: w }], {
      type: "conv2d",
      name: "y",
      inputs: ["x", "w"],
      attrs: { strides: [1, 1], dilations: [1, 1], padding: "same", groups: 2, activation: "none" },
    });
    const want = tf.tidy(() => {
      const xt = tf.tensor4d(x, [1, 5, 5, 4]);
      const wt = tf.tensor4d(w, [6, 3, 3, 2]);
      const parts = [0, 1].map((g) => {
        const filter = tf.transpose(
          tf.slice(wt, [3 * g, 0, 0, 0], [3, 3, 3, 2]),
          [1, 2, 3, 0],
        ) as tf.Tensor4D;
        return tf.conv2d(tf.slice(xt, [0, 0, 0, 2 * g], [1, 5, 5, 2]), filter, 1, "same");
      });
      return tf.concat(parts, 3).dataSync();
    });
    assertClose(got, want);
  });

  it("mul and add broadcast, concat and global_avg_pool like tfjs", () => {
    const x = randn(3 * 3 * 4);
    const v = randn(4);
    const b = createModelBuilder("misc");
    b.input("x", [1, 3, 3, 4]);
    b.constant("v", [4], v);
    const m = b.op({ type: "mul", name: "m", inputs: ["x", "v"], attrs: { activation: "none" } });
    const a = b.op({ type: "add", name: "a", inputs: [m, "x"], attrs: { activation: "relu" } });
    const c = b.op({ type: "concat", name: "c", inputs: [a, "x"], attrs: { axis: -1 } });
    b.output(b.op({ type: "global_avg_pool", name: "g", inputs: [c], attrs: {} }));
    const got = runFloat(b.finish(), x).outputs[0] ?? new Float32Array();
    const want = tf.tidy(() => {
      const xt = tf.tensor4d(x, [1, 3, 3, 4]);
      const at = tf.relu(tf.add(tf.mul(xt, tf.tensor1d(v)), xt));
      return tf.mean(tf.concat([at, xt], 3), [1, 2]).dataSync();
    });
    assertClose(got, want);
  });
});
