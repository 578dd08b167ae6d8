/**
 * Weight sharing: a sub-network of a supernet reads slices of the supernet's
 * variables (first channels, centre-cropped kernels, the first blocks and
 * transformer layers), trains only those slices, and exports with the same
 * numerics as its tfjs forward.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createSupernet, type Network, type Supernet } from "../../src/blocks/network.js";
import { LARGE, SMALL, SPACE } from "../supernet/support.js";
import { assertIrMatches, loadTf, randomImages, randomizeState } from "./support.js";

let tf: typeof TfCore;
before(async () => {
  tf = await loadTf();
});

const space = SPACE;
const small = SMALL;
const large = LARGE;

const shape: [number, number, number, number] = [2, 16, 16, 3];

function layerOf(network: Network, name: string) {
  const layer = network.layers().find((l) => l.name === name);
  assert.ok(layer !== undefined, `no layer ${name}`);
  return layer;
}

describe("supernet weight sharing", () => {
  let supernet: Supernet;
  before(() => {
    supernet = createSupernet(space, { classes: 4, inputResolution: 16, seed: 6 });
    randomizeState(tf, supernet.parameters, 13);
  });

  test("small and largest sub-networks export with the same numerics as their tfjs forward", () => {
    const input = randomImages(shape, 31);
    for (const [label, choice] of [
      ["small", small],
      ["largest", large],
    ] as const) {
      const network = supernet.subnet(choice);
      const expected = tf.tidy(() =>
        network.apply(tf.tensor4d(input, shape), { training: false }).dataSync(),
      );
      const viaSupernet = tf.tidy(() =>
        supernet.apply(tf.tensor4d(input, shape), { training: false }, network.choice).dataSync(),
      );
      assert.deepEqual(viaSupernet, expected);
      assertIrMatches(network.exportModel({ batch: 2 }), input, expected, `${label} sub-network`);
    }
  });

  test("a sub-network's weights are slices of the supernet's variables", () => {
    const a = supernet.subnet(small);
    const b = supernet.subnet(large);
    assert.equal(
      layerOf(a, "stage1.block0.conv1").variable,
      layerOf(b, "stage1.block0.conv1").variable,
    );
    // Centre 3x3 of the 5x5 kernel, first 8 of 16 inputs, first 12 of 16 outputs.
    const smallConv = layerOf(a, "stage1.block0.conv1");
    const largeConv = layerOf(b, "stage1.block0.conv1");
    assert.deepEqual(smallConv.irShape, [12, 3, 3, 8]);
    assert.deepEqual(largeConv.irShape, [16, 5, 5, 16]);
    const s = smallConv.readWeight();
    const l = largeConv.readWeight();
    for (let o = 0; o < 12; o++)
      for (let ky = 0; ky < 3; ky++)
        for (let kx = 0; kx < 3; kx++)
          for (let i = 0; i < 8; i++)
            assert.equal(
              s[((o * 3 + ky) * 3 + kx) * 8 + i],
              l[((o * 5 + ky + 1) * 5 + kx + 1) * 16 + i],
            );
    // The fusion conv reads [block input, global features]: each half is sliced on its own.
    const smallFusion = layerOf(a, "stage2.block0.fusion").readWeight();
    const largeFusion = layerOf(b, "stage2.block0.fusion").readWeight();
    for (let o = 0; o < 8; o++)
      for (let c = 0; c < 16; c++) {
        const source = c < 8 ? c : 16 + (c - 8);
        assert.equal(smallFusion[o * 9 * 16 + c], largeFusion[o * 9 * 32 + source]);
      }
    // Writing through the small view changes the large one in place.
    const zeroed = new Float32Array(s.length);
    const saved = largeConv.readWeight();
    smallConv.writeWeight(zeroed);
    const after = largeConv.readWeight();
    assert.equal(after[((0 * 5 + 1) * 5 + 1) * 16 + 0], 0);
    assert.equal(after[0], l[0], "the kernel's outer ring is untouched");
    largeConv.writeWeight(saved);
  });

  test("training a sub-network updates only its slices", () => {
    const network = supernet.subnet(small);
    const names = [...network.parameters.byName.keys()];
    assert.ok(!names.some((n) => n.startsWith("stage0.block1.")), "unused block excluded");
    assert.ok(!names.some((n) => n.startsWith("stage2.block0.layer1.")), "unused layer excluded");
    assert.ok(names.includes("stage2.block0.layer0.attn.q/kernel"));
    const conv1 = supernet.parameters.byName.get("stage1.block0.conv1/kernel");
    const mean = supernet.parameters.byName.get("stage1.block0.conv1/bn/moving_mean");
    assert.ok(conv1 !== undefined && mean !== undefined);
    const meanBefore = mean.dataSync().slice();
    tf.tidy(() => {
      const x = tf.tensor4d(randomImages(shape, 5), shape);
      const y = tf.oneHot(tf.tensor1d([1, 3], "int32"), 4);
      const { grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(y, network.apply(x, { training: true })) as TfCore.Scalar,
        network.parameters.trainable,
      );
      for (const variable of network.parameters.trainable)
        assert.ok(grads[variable.name] !== undefined, `no gradient for ${variable.name}`);
      const gradient = grads[conv1.name]?.arraySync() as number[][][][];
      let inside = 0;
      for (let ky = 0; ky < 5; ky++)
        for (let kx = 0; kx < 5; kx++)
          for (let i = 0; i < 16; i++)
            for (let o = 0; o < 16; o++) {
              const g = gradient[ky]?.[kx]?.[i]?.[o] as number;
              const active = ky >= 1 && ky <= 3 && kx >= 1 && kx <= 3 && i < 8 && o < 12;
              if (active) inside += Math.abs(g);
              else assert.equal(g, 0, `gradient outside the slice at ${[ky, kx, i, o]}`);
            }
      assert.ok(inside > 0, "the active slice has a gradient");
    });
    // Batch norm in training mode updated the running mean of the 12 active channels only.
    const meanAfter = mean.dataSync();
    for (let c = 0; c < 16; c++) {
      if (c < 12) assert.notEqual(meanAfter[c], meanBefore[c], `channel ${c} updated`);
      else assert.equal(meanAfter[c], meanBefore[c], `channel ${c} untouched`);
    }
    // The view holds no variable of its own: disposing it releases nothing.
    network.parameters.dispose();
    assert.equal(conv1.isDisposed, false);
    assert.ok(supernet.parameters.trainable.includes(conv1));
  });
});
