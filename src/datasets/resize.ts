/**
 * Bilinear resize of one uint8 HWC image, with half-pixel centres (the
 * convention of tf.image.resizeBilinear with halfPixelCenters and of
 * PIL/OpenCV), rounding to the nearest byte. Pure TypeScript so dataset
 * preparation needs no TensorFlow.js.
 */
export function resizeBilinear(
  pixels: Uint8Array,
  from: { height: number; width: number; channels: number },
  to: { height: number; width: number },
): Uint8Array {
  const { height, width, channels } = from;
  if (height === to.height && width === to.width) return pixels.slice();
  const out = new Uint8Array(to.height * to.width * channels);
  const scaleY = height / to.height;
  const scaleX = width / to.width;
  for (let y = 0; y < to.height; y++) {
    const sourceY = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), height - 1);
    const y0 = Math.floor(sourceY);
    const y1 = Math.min(y0 + 1, height - 1);
    const fy = sourceY - y0;
    for (let x = 0; x < to.width; x++) {
      const sourceX = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), width - 1);
      const x0 = Math.floor(sourceX);
      const x1 = Math.min(x0 + 1, width - 1);
      const fx = sourceX - x0;
      for (let c = 0; c < channels; c++) {
        const at = (yy: number, xx: number): number =>
          pixels[(yy * width + xx) * channels + c] as number;
        const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
        const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
        out[(y * to.width + x) * channels + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}
