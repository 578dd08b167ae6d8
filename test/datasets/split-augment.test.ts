import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { augmentImages } from "../../src/datasets/augment.js";
import {
  computeChannelStatistics,
  normalizeImages,
  zeroPointPixel,
} from "../../src/datasets/normalize.js";
import {
  createSeededRandom,
  deriveSeed,
  shuffledIndices,
} from "../../src/datasets/seeded-random.js";
import { computeTrainValidationSplit } from "../../src/datasets/split.js";

const labels = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7 + (i >> 3)) % 10);

describe("seeded random", () => {
  test("same seed, same stream; different seeds differ", () => {
    const a = createSeededRandom(42);
    const b = createSeededRandom(42);
    const c = createSeededRandom(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(
      seqA,
      Array.from({ length: 5 }, () => b.next()),
    );
    assert.notDeepEqual(
      seqA,
      Array.from({ length: 5 }, () => c.next()),
    );
    assert.notEqual(deriveSeed(1, "split"), deriveSeed(1, "augment"));
  });

  test("normals have mean ~0 and variance ~1; shuffles are permutations", () => {
    const random = createSeededRandom(7);
    const samples = Array.from({ length: 20000 }, () => random.nextNormal());
    const mean = samples.reduce((s, v) => s + v, 0) / samples.length;
    const variance = samples.reduce((s, v) => s + (v - mean) ** 2, 0) / samples.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
    const order = shuffledIndices(100, random);
    assert.deepEqual(
      [...order].sort((x, y) => x - y),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });
});

describe("train/validation split", () => {
  test("is deterministic for a seed and changes with it", () => {
    const a = computeTrainValidationSplit(labels, { validationFraction: 0.2, seed: 5 });
    const b = computeTrainValidationSplit(labels, { validationFraction: 0.2, seed: 5 });
    const c = computeTrainValidationSplit(labels, { validationFraction: 0.2, seed: 6 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.validation, c.validation);
  });

  test("partitions the indices and holds out each class's share", () => {
    const { train, validation } = computeTrainValidationSplit(labels, {
      validationFraction: 0.2,
      seed: 1,
    });
    const all = [...train, ...validation].sort((x, y) => x - y);
    assert.deepEqual(
      all,
      Array.from({ length: labels.length }, (_, i) => i),
    );
    for (let label = 0; label < 10; label++) {
      const inClass = labels.filter((l) => l === label).length;
      const held = [...validation].filter((i) => labels[i] === label).length;
      assert.equal(held, Math.round(0.2 * inClass), `class ${label}`);
    }
    assert.throws(
      () => computeTrainValidationSplit(labels, { validationFraction: 1, seed: 1 }),
      RangeError,
    );
  });
});

describe("augmentation", () => {
  const geometry = { height: 6, width: 5, channels: 2 };
  const size = 6 * 5 * 2;
  const images = Uint8Array.from({ length: 8 * size }, (_, i) => 1 + (i % 250));
  const pixel = (buffer: Uint8Array, n: number, y: number, x: number, c: number): number =>
    buffer[n * size + (y * 5 + x) * 2 + c] as number;

  test("is deterministic per stream and differs across streams", () => {
    const options = { seed: 3, padding: 2 };
    const a = augmentImages(images, 8, geometry, options, "epoch0");
    assert.deepEqual(a, augmentImages(images, 8, geometry, options, "epoch0"));
    assert.notDeepEqual(a, augmentImages(images, 8, geometry, options, "epoch1"));
  });

  test("no padding and no flip is the identity", () => {
    const out = augmentImages(
      images,
      8,
      geometry,
      { seed: 1, padding: 0, horizontalFlip: false },
      "s",
    );
    assert.deepEqual(out, images);
  });

  test("flip only yields each image or its mirror, both over a batch", () => {
    const out = augmentImages(images, 8, geometry, { seed: 9, padding: 0 }, "s");
    let flipped = 0;
    for (let n = 0; n < 8; n++) {
      const mirrored = pixel(out, n, 0, 0, 0) === pixel(images, n, 0, 4, 0);
      if (mirrored) flipped++;
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 5; x++) {
          for (let c = 0; c < 2; c++) {
            const sx = mirrored ? 4 - x : x;
            assert.equal(pixel(out, n, y, x, c), pixel(images, n, y, sx, c));
          }
        }
      }
    }
    assert.ok(flipped > 0 && flipped < 8, `flipped ${flipped} of 8`);
  });

  test("crop only shifts each image by one offset within the padding, zero-filling", () => {
    const out = augmentImages(
      images,
      8,
      geometry,
      { seed: 4, padding: 2, horizontalFlip: false },
      "s",
    );
    for (let n = 0; n < 8; n++) {
      let found = false;
      for (let dy = -2; dy <= 2 && !found; dy++) {
        for (let dx = -2; dx <= 2 && !found; dx++) {
          let matches = true;
          for (let y = 0; y < 6 && matches; y++) {
            for (let x = 0; x < 5 && matches; x++) {
              const sy = y + dy;
              const sx = x + dx;
              const inside = sy >= 0 && sy < 6 && sx >= 0 && sx < 5;
              const expected = inside ? pixel(images, n, sy, sx, 1) : 0;
              matches = pixel(out, n, y, x, 1) === expected;
            }
          }
          found = matches;
        }
      }
      assert.ok(found, `image ${n} is not a padded crop of its source`);
    }
  });
});

describe("padding value", () => {
  test("padding takes the fill pixel; the image itself is untouched", () => {
    const geometry = { height: 4, width: 4, channels: 3 };
    const white = new Uint8Array(16 * 4 * 4 * 3).fill(255);
    const fill = [125, 123, 114];
    const out = augmentImages(white, 16, geometry, { seed: 2, padding: 2, fill }, "s");
    let padded = 0;
    for (let i = 0; i < out.length; i += 3) {
      const rgb = [out[i], out[i + 1], out[i + 2]];
      if (rgb[0] === 255) assert.deepEqual(rgb, [255, 255, 255]);
      else {
        assert.deepEqual(rgb, fill);
        padded++;
      }
    }
    assert.ok(padded > 0, "no image was shifted into its padding");
    assert.throws(
      () => augmentImages(white, 16, geometry, { seed: 2, fill: [0, 0] }, "s"),
      /fill has 2 values for 3 channels/,
    );
  });

  test("the zero-point pixel normalises to zero in every channel (within half a grey level)", () => {
    const statistics = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
    const pixel = zeroPointPixel(statistics);
    assert.deepEqual(Array.from(pixel), [125, 123, 114]);
    const normalised = normalizeImages(pixel, 3, statistics);
    for (const [c, value] of normalised.entries())
      assert.ok(
        Math.abs(value) <= 0.5 / 255 / (statistics.std[c] as number) + 1e-7,
        `channel ${c}: ${value}`,
      );
  });
});

describe("normalisation", () => {
  test("computes per-channel mean/std and standardises with them", () => {
    const pixels = Uint8Array.from([0, 255, 255, 255, 0, 255, 255, 255]); // 4 pixels, 2 channels
    const stats = computeChannelStatistics(pixels, 2);
    assert.deepEqual(stats.mean, [0.5, 1]);
    assert.ok(Math.abs((stats.std[0] as number) - 0.5) < 1e-12);
    const out = normalizeImages(pixels, 2, { mean: [0.5, 0.5], std: [0.5, 0.25] });
    assert.deepEqual(Array.from(out), [-1, 2, 1, 2, -1, 2, 1, 2]);
  });
});
