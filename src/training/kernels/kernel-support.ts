/**
 * Shared plumbing for gradient kernels that are composed from forward ops.
 *
 * A kernel function receives `TensorInfo`s and must hand back `TensorInfo`s
 * whose data ids the engine then wraps in new tensors. Composing a kernel out
 * of `tf` ops therefore needs two adapters: one that views an input as a
 * `Tensor` without stealing its reference, and one that returns a computed
 * tensor's data id with an extra backend reference (returning `tf.keep(t)`
 * instead would leave `t` itself alive forever: one leaked tensor per call).
 */
import * as tf from "@tensorflow/tfjs-core";

/** The slice of a tfjs backend these adapters rely on (every backend has it). */
export interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

/**
 * Views a kernel input as a `Tensor`. Inputs are normally the very tensors the
 * op was called with; when a caller passes a bare `TensorInfo`, wrap it in a
 * tensor that owns one extra backend reference, so disposing the wrapper (at
 * the end of the surrounding `tidy`) leaves the caller's data intact.
 */
export function viewAsTensor(info: tf.TensorInfo, backend: RefCountingBackend): tf.Tensor {
  if (info instanceof tf.Tensor) return info;
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/**
 * Runs `compute` in a `tidy` scope and returns its result as a `TensorInfo`
 * whose data id carries the single reference the engine's output tensor will
 * own. Every intermediate (and the result's own wrapper) is disposed.
 */
export function runComposite(backend: RefCountingBackend, compute: () => tf.Tensor): tf.TensorInfo {
  const result = tf.tidy(compute);
  backend.incRef(result.dataId);
  const info: tf.TensorInfo = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  result.dispose();
  return info;
}

/** Normalises a `[h, w] | n` attribute to a pair. */
export function pair(value: [number, number] | number | undefined, fallback = 1): [number, number] {
  if (value === undefined) return [fallback, fallback];
  return typeof value === "number" ? [value, value] : value;
}

/** Explicit NHWC padding as tfjs ops accept it: `[[0,0],[top,bottom],[left,right],[0,0]]`. */
export type Nhwc4Padding = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Applies a signed spatial padding to an NHWC tensor: the negative parts are
 * cropped away now (forward ops reject negative padding), the non-negative
 * parts are returned for the convolution to apply, which is cheaper than
 * materialising a padded copy.
 */
export function cropNegativePadding(
  x: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): { x: tf.Tensor4D; padding: Nhwc4Padding } {
  const [n, h, w, c] = x.shape;
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  const cropped =
    cropTop + cropBottom + cropLeft + cropRight === 0
      ? x
      : tf.slice(
          x,
          [0, cropTop, cropLeft, 0],
          [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c],
        );
  return {
    x: cropped,
    padding: [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ],
  };
}

/**
 * Inserts `stride - 1` zeros after every pixel of an NHWC tensor (rows and
 * columns), producing `h * sh` by `w * sw` pixels whose last `sh - 1` rows and
 * `sw - 1` columns are zero; callers fold those into their padding instead of
 * paying for a crop. Done with rank-4 reshapes and pads only: tensors of rank
 * above 4 are very slow on the WebAssembly backend.
 */
export function zeroDilate(x: tf.Tensor4D, strideH: number, strideW: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let out = x;
  if (strideW > 1) {
    const cols = tf.pad(tf.reshape(out, [n * h, w, 1, c]), [
      [0, 0],
      [0, 0],
      [0, strideW - 1],
      [0, 0],
    ]);
    out = tf.reshape(cols, [n, h, w * strideW, c]);
  }
  if (strideH > 1) {
    const width = out.shape[2];
    const rows = tf.pad(tf.reshape(out, [n, h, 1, width * c]), [
      [0, 0],
      [0, 0],
      [0, strideH - 1],
      [0, 0],
    ]);
    out = tf.reshape(rows, [n, h * strideH, width, c]);
  }
  return out;
}

/**
 * Column sums of a [rows, columns] matrix, as a [1, columns] tensor.
 *
 * Runs as one average pool over the whole matrix viewed as an image, then a
 * scale: on wasm that is a single fast native pass, while `sum(x, 0)`
 * transposes first and `matMul(ones, x)` re-packs x as GEMM weights on every
 * call (5-30x slower for the tall matrices training produces).
 */
export function sumRows(matrix: tf.Tensor2D): tf.Tensor2D {
  const [rows, columns] = matrix.shape;
  // Any factorisation rows = height * width works; a squarish one keeps the
  // pooling window within the backend's comfortable range.
  let height = Math.floor(Math.sqrt(rows));
  while (rows % height !== 0) height--;
  const width = rows / height;
  const image = tf.reshape(matrix, [1, height, width, columns]) as tf.Tensor4D;
  const mean = tf.avgPool(image, [height, width], 1, "valid");
  return tf.reshape(tf.mul(mean, rows), [1, columns]);
}
