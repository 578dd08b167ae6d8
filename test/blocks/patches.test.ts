/**
 * tfjs unfold / fold for MobileViT: fold inverts unfold exactly, and every
 * tfjs sequence is one of the IR's `unfold` sequences (docs/model-ir.md:
 * out[b*ph*pw + i*pw + j][py*(W/pw) + px] = in[b][py*ph + i][px*pw + j]),
 * token order included; only the order of whole sequences differs.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { foldPatches, unfoldPatches } from "../../src/blocks/patches.js";
import { loadTf, randomImages } from "./support.js";

let tf: typeof TfCore;
before(async () => {
  tf = await loadTf();
});

for (const patch of [1, 2, 3]) {
  test(`patch ${patch}: unfold groups pixels as the IR does and fold inverts it`, () => {
    const [batch, height, width, channels] = [2, 6, 12, 3];
    const shape: [number, number, number, number] = [batch, height, width, channels];
    const input = randomImages(shape, patch);
    const x = tf.tensor4d(input, shape);
    const rows = unfoldPatches(x, patch);
    const folded = foldPatches(rows, patch, { batch, height, width });
    assert.deepEqual(folded.dataSync(), x.dataSync());
    const unfolded = rows.dataSync();
    tf.dispose([x, rows, folded]);

    const tokens = (height / patch) * (width / patch);
    const sequenceOf = (s: number): string =>
      Array.from(unfolded.subarray(s * tokens * channels, (s + 1) * tokens * channels)).join();
    const irSequences = new Set<string>();
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < patch; i++)
        for (let j = 0; j < patch; j++) {
          const values: number[] = [];
          for (let py = 0; py < height / patch; py++)
            for (let px = 0; px < width / patch; px++)
              for (let c = 0; c < channels; c++)
                values.push(
                  input[
                    ((b * height + py * patch + i) * width + px * patch + j) * channels + c
                  ] as number,
                );
          irSequences.add(Float32Array.from(values).join());
        }
    const sequences = batch * patch * patch;
    assert.equal(unfolded.length, sequences * tokens * channels);
    for (let s = 0; s < sequences; s++)
      assert.ok(irSequences.has(sequenceOf(s)), `tfjs sequence ${s} is an IR sequence`);
  });
}
