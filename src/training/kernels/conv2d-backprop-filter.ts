/**
 * `Conv2DBackpropFilter` for the WebAssembly backend, which lacks it.
 *
 * dW[kh, kw, ci, co] = sum over (b, oh, ow) of
 *   x[b, oh*sh + kh - padTop, ow*sw + kw - padLeft, ci] * dy[b, oh, ow, co]
 *
 * which is itself a stride-1 convolution: treat the input channels of x as a
 * batch and its batch as channels (xT: [ci, H, W, b]), use dy as the filter
 * (dyT: [OH, OW, b, co]) with dilation = the forward stride, and read the
 * [ci, KH, KW, co] result back as [KH, KW, ci, co]. The convolution then runs
 * on the backend's tuned forward kernel instead of a scalar loop.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  cropNegativePadding,
  pair,
  type RefCountingBackend,
  runComposite,
  viewAsTensor,
} from "./kernel-support.js";

export function conv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as RefCountingBackend;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const { x: xInfo, dy: dyInfo } = args.inputs;
  if (xInfo === undefined || dyInfo === undefined) {
    throw new Error("Conv2DBackpropFilter expects inputs x and dy");
  }
  if (attrs.dataFormat === "NCHW") {
    throw new Error("Conv2DBackpropFilter on wasm supports NHWC only");
  }
  const xShape = xInfo.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const [strideH, strideW] = pair(attrs.strides);
  return runComposite(backend, () => {
    const x = viewAsTensor(xInfo, backend) as tf.Tensor4D;
    const dy = viewAsTensor(dyInfo, backend) as tf.Tensor4D;
    return computeConv2dFilterGradient(x, dy, info, strideH, strideW);
  });
}

/** The composite itself, exported for the depthwise kernel and for tests. */
export function computeConv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
  strideH: number,
  strideW: number,
): tf.Tensor4D {
  const { filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
  // 1x1 unpadded filters are a plain matrix product of the two activations
  // viewed as [N, C] matrices (after subsampling x by the stride, which a
  // 1x1 average pool does in one fast pass). The backend re-packs its second
  // operand on every call (the cost grows with N x its columns), so pack the
  // operand with fewer channels and transpose the other; when N is a
  // multiple of 256, add zero rows first, because transposing a matrix
  // whose new row length is a large power of two thrashes the cache.
  if (filterHeight === 1 && filterWidth === 1 && padInfo.top === 0 && padInfo.left === 0) {
    const sampled =
      strideH === 1 && strideW === 1 ? x : tf.avgPool(x, 1, [strideH, strideW], "valid");
    if (sampled.shape[1] === outHeight && sampled.shape[2] === outWidth) {
      return matrixFilterGradient(sampled, dy, info);
    }
  }
  // The batch axis becomes the innermost one below; when it is a multiple of
  // 8, an extra all-zero image (which adds nothing to dW) keeps the
  // transposes off power-of-two strides, where they thrash the cache.
  const extra = info.batchSize % 8 === 0 ? 1 : 0;
  const addImage = (t: tf.Tensor4D): tf.Tensor4D =>
    extra === 0
      ? t
      : tf.pad(t, [
          [0, extra],
          [0, 0],
          [0, 0],
          [0, 0],
        ]);
  const xT = tf.transpose(addImage(x), [3, 1, 2, 0]);
  const dyT = tf.transpose(addImage(dy), [1, 2, 0, 3]);
  // Pick the bottom/right padding that makes the output exactly KH x KW; rows
  // the forward pass never read come out as a negative padding (cropped).
  const bottom = filterHeight - inHeight - padInfo.top + (outHeight - 1) * strideH;
  const right = filterWidth - inWidth - padInfo.left + (outWidth - 1) * strideW;
  const { x: input, padding } = cropNegativePadding(xT, padInfo.top, bottom, padInfo.left, right);
  const gradient = tf.conv2d(input, dyT, 1, padding, "NHWC", [strideH, strideW]);
  return tf.transpose(gradient, [1, 2, 0, 3]);
}

/** dW for a 1x1 filter from x already sampled onto dy's grid. */
function matrixFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor4D {
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const extra = rows % 256 === 0 ? 8 : 0;
  const asMatrix = (t: tf.Tensor, columns: number): tf.Tensor2D => {
    const matrix = tf.reshape(t, [rows, columns]) as tf.Tensor2D;
    return extra === 0
      ? matrix
      : tf.pad(matrix, [
          [0, extra],
          [0, 0],
        ]);
  };
  const xMatrix = asMatrix(x, info.inChannels);
  const dyMatrix = asMatrix(dy, info.outChannels);
  const product =
    info.inChannels >= info.outChannels
      ? tf.matMul(tf.transpose(xMatrix), dyMatrix)
      : tf.transpose(tf.matMul(tf.transpose(dyMatrix), xMatrix));
  return tf.reshape(product, [1, 1, info.inChannels, info.outChannels]);
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: "wasm",
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
