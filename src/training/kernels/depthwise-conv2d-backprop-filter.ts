/**
 * `DepthwiseConv2dNativeBackpropFilter` for the WebAssembly backend, which
 * lacks it.
 *
 * dW[kh, kw, c, j] = sum over (b, oh, ow) of
 *   x[b, oh*sh + kh - padTop, ow*sw + kw - padLeft, c] * dy[b, oh, ow, c*m + j]
 *
 * Computed tap by tap on flattened tensors. Lay x (padded) and dy
 * (zero-dilated by the stride, zero-padded) on one Hp x Wp grid and flatten
 * both; tap (kh, kw) is then the plain dot product of x with dy shifted by
 * (kh*Wp + kw)*C elements, per channel. The shift is a 1-D zero pad of dy
 * (positions that wrap across rows or images meet zeros), the product an
 * elementwise multiply and the per-channel sum an average pool (see
 * `sumRows`). Only pad, multiply and pooling run, all fast native kernels: this
 * backend's Slice copies through JavaScript and is far slower.
 *
 * (The textbook route, a depthwise convolution over channel x batch planes
 * with dy as an OH x OW filter, ran 10-20x slower than the forward pass: the
 * backend's depthwise kernels are tuned for small filters, not 32x32 ones.)
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  cropNegativePadding,
  pair,
  type RefCountingBackend,
  runComposite,
  sumRows,
  viewAsTensor,
  zeroDilate,
} from "./kernel-support.js";

export function depthwiseConv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as RefCountingBackend;
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const { x: xInfo, dy: dyInfo } = args.inputs;
  if (xInfo === undefined || dyInfo === undefined) {
    throw new Error("DepthwiseConv2dNativeBackpropFilter expects inputs x and dy");
  }
  const [dilationH, dilationW] = pair(attrs.dilations);
  if (dilationH !== 1 || dilationW !== 1) {
    throw new Error("DepthwiseConv2dNativeBackpropFilter supports dilation 1 only");
  }
  const info = tf.backend_util.computeConv2DInfo(
    xInfo.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const [strideH, strideW] = pair(attrs.strides);
  return runComposite(backend, () => {
    const x = viewAsTensor(xInfo, backend) as tf.Tensor4D;
    const dy = viewAsTensor(dyInfo, backend) as tf.Tensor4D;
    return computeDepthwiseFilterGradient(x, dy, info, attrs.filterShape, strideH, strideW);
  });
}

export function computeDepthwiseFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
  filterShape: [number, number, number, number],
  strideH: number,
  strideW: number,
): tf.Tensor4D {
  const [filterH, filterW, channels, multiplier] = filterShape;
  const { batchSize, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
  const planes = channels * multiplier;
  // With a multiplier, repeat each input channel m times so that channel
  // c*m + j of the repeated input lines up with channel c*m + j of dy.
  const expanded =
    multiplier === 1
      ? x
      : (tf.reshape(
          tf.tile(tf.reshape(x, [batchSize * inHeight * inWidth, channels, 1]), [1, 1, multiplier]),
          [batchSize, inHeight, inWidth, planes],
        ) as tf.Tensor4D);
  // The grid covers every input position a tap reads and every (dilated)
  // output position, so neither tensor needs cropping in the usual cases.
  const gridH = Math.max((outHeight - 1) * strideH + filterH, outHeight * strideH);
  const gridW = Math.max((outWidth - 1) * strideW + filterW, outWidth * strideW);
  const { x: cropped, padding } = cropNegativePadding(
    expanded,
    padInfo.top,
    gridH - inHeight - padInfo.top,
    padInfo.left,
    gridW - inWidth - padInfo.left,
  );
  const gridSize = batchSize * gridH * gridW * planes;
  const tail = ((filterH - 1) * gridW + (filterW - 1)) * planes;
  const xFlat = tf.pad(tf.reshape(tf.pad(cropped, padding), [gridSize]), [[0, tail]]);
  const dyGrid = tf.pad(zeroDilate(dy, strideH, strideW), [
    [0, 0],
    [0, gridH - outHeight * strideH],
    [0, gridW - outWidth * strideW],
    [0, 0],
  ]);
  const dyFlat = tf.reshape(dyGrid, [gridSize]);
  const rows = (gridSize + tail) / planes;
  const taps: tf.Tensor[] = [];
  for (let kh = 0; kh < filterH; kh++) {
    for (let kw = 0; kw < filterW; kw++) {
      const shift = (kh * gridW + kw) * planes;
      // Free each tap's two full-size temporaries at once: holding all of
      // them until the kernel returns made the wasm heap thrash.
      taps.push(
        tf.tidy(() => {
          const shifted = tf.pad(dyFlat, [[shift, tail - shift]]);
          return sumRows(tf.reshape(tf.mul(xFlat, shifted), [rows, planes]));
        }),
      );
    }
  }
  return tf.reshape(tf.concat(taps, 0), filterShape);
}

export const depthwiseConv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: "wasm",
  kernelFunc: depthwiseConv2dBackpropFilter as unknown as tf.KernelFunc,
};
