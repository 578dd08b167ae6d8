/**
 * The regions a sub-network reports are exactly the elements its forward pass
 * reads: a gradient is zero outside them and not zero inside; their union
 * over several sub-networks is what a step may update.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createSupernet, type Supernet } from "../../src/blocks/network.js";
import { computeUsedElements, markBox } from "../../src/supernet/region-masks.js";
import { loadTf, randomImages, randomizeState } from "../blocks/support.js";
import { LARGE, SMALL, SPACE } from "./support.js";

let tf: typeof TfCore;
before(async () => {
  tf = await loadTf();
});

describe("variable regions", () => {
  test("markBox marks a box of a row-major array", () => {
    const mask = new Uint8Array(3 * 4);
    markBox(mask, [3, 4], { begin: [1, 1], size: [2, 2] });
    assert.deepEqual([...mask], [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0]);
    const whole = new Uint8Array(2 * 2 * 2);
    markBox(whole, [2, 2, 2], { begin: [0, 0, 0], size: [2, 2, 2] });
    assert.ok(whole.every((v) => v === 1));
  });

  let supernet: Supernet;
  before(() => {
    supernet = createSupernet(SPACE, { classes: 4, inputResolution: 16, seed: 2 });
    randomizeState(tf, supernet.parameters, 3);
  });

  test("a sub-network's gradient is non-zero exactly inside its regions", () => {
    const network = supernet.subnet(SMALL);
    const used = computeUsedElements(network.regions());
    const shape: [number, number, number, number] = [4, 16, 16, 3];
    tf.tidy(() => {
      const x = tf.tensor4d(randomImages(shape, 9), shape);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 4);
      const { grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(y, network.apply(x, { training: true })) as TfCore.Scalar,
        network.parameters.trainable,
      );
      let partial = 0;
      for (const variable of network.parameters.trainable) {
        assert.ok(used.has(variable.name), `${variable.name} has a region`);
        const mask = used.get(variable.name);
        const gradient = grads[variable.name]?.dataSync() as Float32Array;
        if (mask === undefined) continue;
        partial++;
        let inside = 0;
        gradient.forEach((g, i) => {
          if (mask[i] === 0) assert.equal(g, 0, `${variable.name}[${i}] is outside the region`);
          else inside += Math.abs(g);
        });
        assert.ok(inside > 0, `${variable.name}: the region has a gradient`);
      }
      assert.ok(partial > 10, "the small sub-network uses most variables in part");
    });
  });

  test("the union over sub-networks: whole where one reads it whole, masked elsewhere", () => {
    const small = supernet.subnet(SMALL).regions();
    const large = supernet.subnet(LARGE).regions();
    const largeOnly = computeUsedElements(large);
    assert.ok([...largeOnly.values()].every((mask) => mask === undefined));
    // The largest has as many input as output channels in the ResNet stage: no shortcut.
    const shortcut = supernet.parameters.byName.get("stage1.block0.shortcut/kernel");
    assert.ok(shortcut !== undefined && !largeOnly.has(shortcut.name));
    const union = computeUsedElements([...small, ...large]);
    assert.equal(union.size, supernet.parameters.all().length, "every variable is used");
    // The small one's shortcut reads 8 inputs x 12 outputs of the 16 x 16 kernel.
    assert.equal(
      union.get(shortcut.name)?.reduce((sum, value) => sum + value, 0),
      8 * 12,
    );
    const partial = [...union.entries()].filter(([, mask]) => mask !== undefined);
    assert.ok(partial.every(([name]) => name.startsWith("stage1.block0.shortcut")));
    const smallOnly = computeUsedElements(small);
    assert.ok(smallOnly.size < supernet.parameters.all().length, "unused blocks have no region");
  });
});
