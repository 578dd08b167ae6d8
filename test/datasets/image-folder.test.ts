import assert from "node:assert/strict";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { loadImageFolder } from "../../src/datasets/image-folder.js";
import { resizeBilinear } from "../../src/datasets/resize.js";

function rgbaImage(width: number, height: number, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = (i * 13 + seed) % 256;
    data[i * 4 + 1] = (i * 29 + 2 * seed) % 256;
    data[i * 4 + 2] = (i * 53 + 3 * seed) % 256;
    data[i * 4 + 3] = 255;
  }
  return data;
}

function rgbOf(rgba: Uint8Array): number[] {
  return Array.from(rgba).filter((_, i) => i % 4 !== 3);
}

async function writePng(
  path: string,
  width: number,
  height: number,
  seed: number,
): Promise<Uint8Array> {
  const png = new PNG({ width, height });
  const data = rgbaImage(width, height, seed);
  png.data = Buffer.from(data);
  await writeFile(path, PNG.sync.write(png));
  return data;
}

describe("image-folder loader", () => {
  test("labels follow sorted class directories and PNG pixels are exact", async () => {
    const root = await mkdtemp(join(tmpdir(), "image-folder-"));
    await mkdir(join(root, "zebra"));
    await mkdir(join(root, "ant"));
    const ant1 = await writePng(join(root, "ant", "b.png"), 4, 3, 1);
    const ant0 = await writePng(join(root, "ant", "a.png"), 4, 3, 2);
    const zebra = await writePng(join(root, "zebra", "x.png"), 4, 3, 3);
    await writeFile(join(root, "zebra", "notes.txt"), "ignored");
    const dataset = await loadImageFolder({ root });
    assert.deepEqual(dataset.classNames, ["ant", "zebra"]);
    assert.deepEqual(Array.from(dataset.labels), [0, 0, 1]);
    assert.deepEqual(
      [dataset.count, dataset.height, dataset.width, dataset.channels],
      [3, 3, 4, 3],
    );
    assert.deepEqual(Array.from(dataset.images.subarray(0, 36)), rgbOf(ant0));
    assert.deepEqual(Array.from(dataset.images.subarray(36, 72)), rgbOf(ant1));
    assert.deepEqual(Array.from(dataset.images.subarray(72, 108)), rgbOf(zebra));
  });

  test("decodes JPEG (lossy, close) and resizes on request", async () => {
    const root = await mkdtemp(join(tmpdir(), "image-folder-jpeg-"));
    await mkdir(join(root, "flat"));
    const width = 16;
    const height = 8;
    const rgba = new Uint8Array(width * height * 4).fill(200);
    await writeFile(
      join(root, "flat", "one.jpg"),
      jpeg.encode({ width, height, data: rgba }, 100).data,
    );
    const dataset = await loadImageFolder({ root, resize: { height: 4, width: 4 } });
    assert.deepEqual([dataset.height, dataset.width], [4, 4]);
    for (const value of dataset.images) assert.ok(Math.abs(value - 200) <= 2, `pixel ${value}`);
  });

  test("mixed sizes without a resize are an error that suggests one", async () => {
    const root = await mkdtemp(join(tmpdir(), "image-folder-sizes-"));
    await mkdir(join(root, "c"));
    await writePng(join(root, "c", "a.png"), 4, 4, 1);
    await writePng(join(root, "c", "b.png"), 5, 4, 1);
    await assert.rejects(loadImageFolder({ root }), /differ in size .*set a resize resolution/);
  });

  test("a missing folder explains the expected layout", async () => {
    await assert.rejects(
      loadImageFolder({ root: join(tmpdir(), "definitely-not-here-xyz") }),
      /one sub-directory per class/,
    );
  });

  test("bilinear resize: identity, constant images and a 2x downscale", () => {
    const pixels = Uint8Array.from([0, 100, 200, 50]);
    const same = resizeBilinear(
      pixels,
      { height: 2, width: 2, channels: 1 },
      { height: 2, width: 2 },
    );
    assert.deepEqual(Array.from(same), [0, 100, 200, 50]);
    const down = resizeBilinear(
      pixels,
      { height: 2, width: 2, channels: 1 },
      { height: 1, width: 1 },
    );
    assert.deepEqual(Array.from(down), [88]); // mean 87.5, rounded
    const flat = resizeBilinear(
      new Uint8Array(27).fill(9),
      { height: 3, width: 3, channels: 3 },
      { height: 5, width: 2 },
    );
    assert.deepEqual(Array.from(flat), new Array<number>(30).fill(9));
  });
});
