/**
 * Loader for an image folder: `root/<class>/*.png|*.jpg|*.jpeg`. Class names
 * are the sub-directory names in sorted order (label i = i-th name), files
 * are read in sorted order, so the dataset is a pure function of the tree.
 * Images are decoded to RGB; all must share one size unless `resize` is
 * given.
 */
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import type { ImageDataset } from "./image-dataset.js";
import { resizeBilinear } from "./resize.js";

export interface ImageFolderOptions {
  readonly root: string;
  /** Resize every image to this resolution (bilinear). */
  readonly resize?: { readonly height: number; readonly width: number };
}

const imageExtensions = new Set([".png", ".jpg", ".jpeg"]);

interface DecodedImage {
  height: number;
  width: number;
  /** RGB, HWC. */
  pixels: Uint8Array;
}

/** Decodes PNG or JPEG bytes to RGB (alpha dropped); `source` names errors. */
export function decodeImage(bytes: Uint8Array, source: string): DecodedImage {
  const extension = extname(source).toLowerCase();
  let rgba: { width: number; height: number; data: Uint8Array };
  try {
    if (extension === ".png") {
      rgba = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } else {
      rgba = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    }
  } catch (error) {
    throw new Error(
      `${source}: cannot decode image (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const pixels = new Uint8Array(rgba.width * rgba.height * 3);
  for (let p = 0; p < rgba.width * rgba.height; p++) {
    pixels[p * 3] = rgba.data[p * 4] as number;
    pixels[p * 3 + 1] = rgba.data[p * 4 + 1] as number;
    pixels[p * 3 + 2] = rgba.data[p * 4 + 2] as number;
  }
  return { height: rgba.height, width: rgba.width, pixels };
}

export async function loadImageFolder(options: ImageFolderOptions): Promise<ImageDataset> {
  const { root } = options;
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    throw new Error(
      `image folder ${root} not found: expected one sub-directory per class, ` +
        "each holding .png or .jpg images",
    );
  }
  const classNames = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  if (classNames.length === 0) throw new Error(`${root}: no class sub-directories`);
  if (classNames.length > 256)
    throw new Error(`${root}: ${classNames.length} classes, at most 256`);
  const decoded: DecodedImage[] = [];
  const labels: number[] = [];
  for (const [label, className] of classNames.entries()) {
    const directory = join(root, className);
    const files = (await readdir(directory))
      .filter((name) => imageExtensions.has(extname(name).toLowerCase()))
      .sort();
    for (const file of files) {
      const path = join(directory, file);
      let image = decodeImage(new Uint8Array(await readFile(path)), path);
      if (options.resize !== undefined) {
        image = {
          ...options.resize,
          pixels: resizeBilinear(image.pixels, { ...image, channels: 3 }, options.resize),
        };
      }
      decoded.push(image);
      labels.push(label);
    }
  }
  const first = decoded[0];
  if (first === undefined)
    throw new Error(`${root}: no .png or .jpg images in any class directory`);
  const size = first.height * first.width * 3;
  const images = new Uint8Array(decoded.length * size);
  for (const [index, image] of decoded.entries()) {
    if (image.height !== first.height || image.width !== first.width) {
      throw new Error(
        `${root}: images differ in size (${first.width}x${first.height} and ` +
          `${image.width}x${image.height}); set a resize resolution`,
      );
    }
    images.set(image.pixels, index * size);
  }
  return {
    count: decoded.length,
    height: first.height,
    width: first.width,
    channels: 3,
    images,
    labels: Uint8Array.from(labels),
    classNames,
  };
}
