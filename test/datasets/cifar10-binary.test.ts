import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  CIFAR10_RECORD_BYTES,
  decodeCifar10Records,
  encodeCifar10Records,
  loadCifar10Binary,
} from "../../src/datasets/cifar10-binary.js";
import {
  committedCifar10Subset,
  needsSharedCifar10,
  sharedCifar10Directory,
} from "../support/paths.js";

/** Record `index` of a CIFAR-10 binary file, read straight from the bytes (planar -> HWC). */
function expectedRecord(bytes: Uint8Array, index: number): { label: number; pixels: number[] } {
  const base = index * 3073;
  const pixels: number[] = [];
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      for (let c = 0; c < 3; c++) pixels.push(bytes[base + 1 + c * 1024 + y * 32 + x] as number);
    }
  }
  return { label: bytes[base] as number, pixels };
}

describe("CIFAR-10 binary loader", () => {
  test("decodes known test records byte for byte, with class names", {
    skip: needsSharedCifar10,
  }, async () => {
    const raw = new Uint8Array(await readFile(join(sharedCifar10Directory, "test_batch.bin")));
    const dataset = await loadCifar10Binary({ directory: sharedCifar10Directory, split: "test" });
    assert.equal(dataset.count, 10000);
    assert.deepEqual([dataset.height, dataset.width, dataset.channels], [32, 32, 3]);
    assert.equal(dataset.classNames[0], "airplane");
    assert.equal(dataset.classNames[9], "truck");
    for (const index of [0, 1, 2, 4321, 9999]) {
      const expected = expectedRecord(raw, index);
      assert.equal(dataset.labels[index], expected.label, `label of record ${index}`);
      const actual = dataset.images.subarray(index * 3072, (index + 1) * 3072);
      assert.deepEqual(Array.from(actual), expected.pixels, `pixels of record ${index}`);
    }
    const perClass = new Array<number>(10).fill(0);
    for (const label of dataset.labels) perClass[label] = (perClass[label] ?? 0) + 1;
    assert.deepEqual(perClass, new Array<number>(10).fill(1000));
  });

  test("verifies SHA-256 checksums and honours a record limit", {
    skip: needsSharedCifar10,
  }, async () => {
    const dataset = await loadCifar10Binary({
      directory: sharedCifar10Directory,
      split: "train",
      checksums: true,
      limit: 7,
    });
    assert.equal(dataset.count, 7);
    const raw = new Uint8Array(await readFile(join(sharedCifar10Directory, "data_batch_1.bin")));
    assert.deepEqual(
      Array.from(dataset.images.subarray(6 * 3072, 7 * 3072)),
      expectedRecord(raw, 6).pixels,
    );
  });

  test("a checksum mismatch names the file", { skip: needsSharedCifar10 }, async () => {
    await assert.rejects(
      loadCifar10Binary({
        directory: sharedCifar10Directory,
        split: "test",
        checksums: new Map([["test_batch.bin", "0".repeat(64)]]),
      }),
      /test_batch\.bin: SHA-256 mismatch/,
    );
  });

  test("the committed subset is the first records of the shared copy", {
    skip: needsSharedCifar10,
  }, async () => {
    const subsetTrain = await loadCifar10Binary({
      directory: committedCifar10Subset,
      split: "train",
      checksums: true,
    });
    const subsetTest = await loadCifar10Binary({
      directory: committedCifar10Subset,
      split: "test",
      checksums: true,
    });
    assert.equal(subsetTrain.count, 2000);
    assert.equal(subsetTest.count, 1000);
    const full = await loadCifar10Binary({
      directory: sharedCifar10Directory,
      split: "train",
      limit: 2000,
    });
    assert.deepEqual(subsetTrain.images, full.images);
    assert.deepEqual(subsetTrain.labels, full.labels);
  });

  test("a truncated file is an error naming the file and the record", async () => {
    const directory = await mkdtemp(join(tmpdir(), "cifar-truncated-"));
    const raw = new Uint8Array(await readFile(join(committedCifar10Subset, "test_batch.bin")));
    await writeFile(
      join(directory, "test_batch.bin"),
      raw.subarray(0, 2 * CIFAR10_RECORD_BYTES + 100),
    );
    await assert.rejects(
      loadCifar10Binary({ directory, split: "test" }),
      (error: Error) =>
        error.message.includes(join(directory, "test_batch.bin")) &&
        /truncated at record 2/.test(error.message),
    );
  });

  test("a truncated file is an error even when a limit stops reading before its end", async () => {
    const directory = await mkdtemp(join(tmpdir(), "cifar-truncated-limit-"));
    const raw = new Uint8Array(await readFile(join(committedCifar10Subset, "test_batch.bin")));
    await writeFile(
      join(directory, "test_batch.bin"),
      raw.subarray(0, 5 * CIFAR10_RECORD_BYTES + 7),
    );
    await assert.rejects(
      loadCifar10Binary({ directory, split: "test", limit: 2 }),
      (error: Error) =>
        error.message.includes(join(directory, "test_batch.bin")) &&
        /truncated at record 5 \(15372 bytes is not a multiple of the 3073-byte record size\)/.test(
          error.message,
        ),
    );
  });

  test("a truncated batch that a limit leaves unread is still an error", async () => {
    const directory = await mkdtemp(join(tmpdir(), "cifar-truncated-later-"));
    const raw = new Uint8Array(await readFile(join(committedCifar10Subset, "data_batch_1.bin")));
    await writeFile(join(directory, "data_batch_1.bin"), raw.subarray(0, 4 * CIFAR10_RECORD_BYTES));
    await writeFile(join(directory, "data_batch_2.bin"), raw.subarray(0, 100));
    await assert.rejects(
      loadCifar10Binary({ directory, split: "train", limit: 3 }),
      (error: Error) =>
        error.message.startsWith(`${join(directory, "data_batch_2.bin")}: truncated at record 0`),
    );
  });

  test("an empty split file is an error naming it, not an empty split", async () => {
    const directory = await mkdtemp(join(tmpdir(), "cifar-empty-"));
    await writeFile(join(directory, "test_batch.bin"), new Uint8Array(0));
    for (const limit of [undefined, 10]) {
      await assert.rejects(
        loadCifar10Binary({ directory, split: "test", ...(limit ? { limit } : {}) }),
        {
          message: `${join(directory, "test_batch.bin")}: empty file, expected 3073-byte CIFAR-10 records (1 label byte + 3072 pixel bytes)`,
        },
      );
    }
    assert.throws(() => decodeCifar10Records(new Uint8Array(0), "x.bin"), /x\.bin: empty file/);
  });

  test("an impossible label is an error naming the record", () => {
    const images = new Uint8Array(3 * 3072);
    const bytes = encodeCifar10Records(images, Uint8Array.from([1, 2, 3]));
    bytes[CIFAR10_RECORD_BYTES] = 17;
    assert.throws(() => decodeCifar10Records(bytes, "x.bin"), /x\.bin: record 1 has label 17/);
  });

  test("encode and decode are inverses", () => {
    const images = Uint8Array.from({ length: 2 * 3072 }, (_, i) => (i * 7) % 256);
    const labels = Uint8Array.from([4, 9]);
    const decoded = decodeCifar10Records(encodeCifar10Records(images, labels), "memory");
    assert.deepEqual(decoded.images, images);
    assert.deepEqual(decoded.labels, labels);
  });

  test("a missing dataset says where to put it and where to get it", async () => {
    const directory = await mkdtemp(join(tmpdir(), "cifar-missing-"));
    await assert.rejects(loadCifar10Binary({ directory, split: "train" }), (error: Error) => {
      assert.match(error.message, /data_batch_1\.bin not found/);
      assert.match(
        error.message,
        /https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-10-binary\.tar\.gz/,
      );
      assert.ok(error.message.includes(directory));
      return true;
    });
  });
});
