import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  computeDatasetArtifacts,
  loadDatasetArtifacts,
  writeDatasetArtifacts,
} from "../../src/datasets/artifacts.js";
import { loadCifar10Binary } from "../../src/datasets/cifar10-binary.js";
import {
  decodeTensorFile,
  encodeTensorFile,
  TENSOR_FILE_HEADER_BYTES,
} from "../../src/datasets/tensor-file.js";
import { committedCifar10Subset } from "../support/paths.js";

const options = {
  source: { kind: "cifar10-binary", directory: committedCifar10Subset, verifyChecksums: true },
  validationFraction: 0.1,
  seed: 11,
  limit: { train: 300, test: 50 },
} as const;

describe("dataset tensor file", () => {
  const dataset = {
    count: 2,
    height: 2,
    width: 3,
    channels: 1,
    images: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
    labels: Uint8Array.from([2, 0]),
    classNames: ["a", "b", "c"],
  };

  test("has the documented layout and round-trips", () => {
    const bytes = encodeTensorFile(dataset);
    assert.equal(bytes.length, 32 + 12 + 2);
    assert.equal(String.fromCharCode(...bytes.subarray(0, 4)), "TFDS");
    const view = new DataView(bytes.buffer);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((i) => view.getUint32(i * 4, true)),
      [1, 2, 2, 3, 1, 3, 0],
    );
    assert.deepEqual(
      Array.from(bytes.subarray(TENSOR_FILE_HEADER_BYTES)),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 2, 0],
    );
    const decoded = decodeTensorFile(bytes, dataset.classNames, "mem.tfds");
    assert.deepEqual(Array.from(decoded.images), Array.from(dataset.images));
    assert.deepEqual(Array.from(decoded.labels), [2, 0]);
  });

  test("rejects truncation, bad magic and bad labels with the file name", () => {
    const bytes = encodeTensorFile(dataset);
    assert.throws(
      () => decodeTensorFile(bytes.subarray(0, 40), dataset.classNames, "t.tfds"),
      /t\.tfds: 40 bytes.*truncated in image 1/,
    );
    const bad = bytes.slice();
    bad[0] = 0x58;
    assert.throws(
      () => decodeTensorFile(bad, dataset.classNames, "m.tfds"),
      /m\.tfds: not a dataset tensor file/,
    );
    const label = bytes.slice();
    label[label.length - 1] = 9;
    assert.throws(
      () => decodeTensorFile(label, dataset.classNames, "l.tfds"),
      /l\.tfds: image 1 has label 9/,
    );
  });
});

describe("dataset artifacts", () => {
  test("writes split files and a manifest that read back identically", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "dataset-artifacts-"));
    const { manifest, files } = await writeDatasetArtifacts(options, outDir);
    assert.deepEqual(files.sort(), ["manifest.json", "test.tfds", "train.tfds", "validation.tfds"]);
    const train = manifest.splits.train;
    const validation = manifest.splits.validation;
    assert.equal((train?.count ?? 0) + (validation?.count ?? 0), 300);
    for (let c = 0; c < 10; c++) {
      const inClass = (train?.perClass[c] ?? 0) + (validation?.perClass[c] ?? 0);
      assert.equal(validation?.perClass[c], Math.round(0.1 * inClass), `class ${c}`);
    }
    assert.equal(manifest.splits.test?.count, 50);
    assert.equal(manifest.classNames[3], "cat");
    assert.equal(manifest.normalization.mean.length, 3);
    assert.match(manifest.contentDigest, /^[0-9a-f]{64}$/);

    const loaded = await loadDatasetArtifacts(outDir);
    assert.deepEqual(loaded.manifest, manifest);
    const source = await loadCifar10Binary({
      directory: committedCifar10Subset,
      split: "test",
      limit: 50,
    });
    assert.deepEqual(Array.from(loaded.splits.test?.images ?? []), Array.from(source.images));
    const counted = (loaded.splits.train?.count ?? 0) + (loaded.splits.validation?.count ?? 0);
    assert.equal(counted, 300);
  });

  test("a split that holds out every training image is an error, not an empty training set", async () => {
    // One image, half held out per class: round(0.5) = 1 goes to validation.
    await assert.rejects(
      computeDatasetArtifacts({ ...options, validationFraction: 0.5, limit: { train: 1 } }),
      /^Error: no training images: validation_fraction 0\.5 holds out all 1 images of the training source$/,
    );
  });

  test("is deterministic, and the seed changes the split", async () => {
    const a = await computeDatasetArtifacts(options);
    const b = await computeDatasetArtifacts(options);
    const c = await computeDatasetArtifacts({ ...options, seed: 12 });
    assert.equal(a.manifest.contentDigest, b.manifest.contentDigest);
    assert.deepEqual(a.files.get("manifest.json"), b.files.get("manifest.json"));
    assert.notEqual(a.manifest.contentDigest, c.manifest.contentDigest);
  });

  test("resizes to the requested resolution", async () => {
    const { manifest, files } = await computeDatasetArtifacts({
      ...options,
      resize: { height: 16, width: 16 },
    });
    assert.deepEqual(manifest.image, { height: 16, width: 16, channels: 3 });
    assert.equal(files.get("test.tfds")?.length, 32 + 50 * 16 * 16 * 3 + 50);
  });

  test("a tampered split file fails its digest check", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "dataset-tampered-"));
    await writeDatasetArtifacts(options, outDir);
    const path = join(outDir, "validation.tfds");
    const bytes = await readFile(path);
    bytes[100] = (bytes[100] ?? 0) ^ 1;
    await writeFile(path, bytes);
    await assert.rejects(
      loadDatasetArtifacts(outDir),
      /validation\.tfds: SHA-256 .* does not match/,
    );
  });
});
