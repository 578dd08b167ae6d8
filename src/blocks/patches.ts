/**
 * MobileViT's unfold and fold in tfjs, with tensors of rank 4 at most (rank
 * 5 and 6 transposes are very slow on the wasm backend).
 *
 * Unfold turns a [B, H, W, C] feature map into B * p * p sequences of
 * (H/p) * (W/p) tokens: one sequence per pixel position inside a p x p patch,
 * listing that pixel of every patch, so attention runs across patches. The
 * rows come out as [sequences * tokens, C], sequences ordered (j, i, b) for
 * the pixel (i, j) of the patch and image b. The IR's `unfold` orders them
 * (b, i, j); since every sequence is processed on its own and `fold` undoes
 * the same order, the folded result is identical.
 */
import * as tf from "@tensorflow/tfjs-core";

/** [B, H, W, C] -> [(p * p * B) * (H/p * W/p), C]. */
export function unfoldPatches(x: tf.Tensor4D, patch: number): tf.Tensor2D {
  const [batch, height, width, channels] = x.shape;
  if (height % patch !== 0 || width % patch !== 0) {
    throw new Error(`unfold: ${height}x${width} is not divisible by patch size ${patch}`);
  }
  if (patch === 1) return tf.reshape(x, [batch * height * width, channels]);
  const rowsOfPatches = (batch * height) / patch;
  const patchesPerRow = width / patch;
  // [(b, py), i, px, (j, c)] -> [i, (b, py), px, (j, c)]
  const byRowInPatch = tf.transpose(
    tf.reshape(x, [rowsOfPatches, patch, patchesPerRow, patch * channels]),
    [1, 0, 2, 3],
  );
  // [(i, b, py, px), j, c] -> [j, (i, b, py, px), c]
  const byColumnInPatch = tf.transpose(
    tf.reshape(byRowInPatch, [patch * rowsOfPatches * patchesPerRow, patch, channels]),
    [1, 0, 2],
  );
  return tf.reshape(byColumnInPatch, [batch * height * width, channels]);
}

/** The inverse of `unfoldPatches`. */
export function foldPatches(
  rows: tf.Tensor2D,
  patch: number,
  shape: { batch: number; height: number; width: number },
): tf.Tensor4D {
  const { batch, height, width } = shape;
  const channels = rows.shape[1];
  if (patch === 1) return tf.reshape(rows, [batch, height, width, channels]);
  const rowsOfPatches = (batch * height) / patch;
  const patchesPerRow = width / patch;
  const byRowInPatch = tf.transpose(
    tf.reshape(rows, [patch, patch * rowsOfPatches * patchesPerRow, channels]),
    [1, 0, 2],
  );
  const image = tf.transpose(
    tf.reshape(byRowInPatch, [patch, rowsOfPatches, patchesPerRow, patch * channels]),
    [1, 0, 2, 3],
  );
  return tf.reshape(image, [batch, height, width, channels]);
}
