/**
 * `Conv2DBackpropInput` for the WebAssembly backend, overriding the stock one.
 *
 * The input gradient is a stride-1 convolution of the zero-dilated output
 * gradient with the spatially flipped filter (input and output channels
 * swapped). The stock wasm kernel is a scalar loop, about 5x slower than this
 * route through the backend's tuned forward convolution. Square strides
 * above 1 use the equivalent polyphase form (./polyphase.ts), which skips
 * the multiplies by inserted zeros; 1x1 filters project on dy's own grid.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  cropNegativePadding,
  pair,
  type RefCountingBackend,
  runComposite,
  viewAsTensor,
  zeroDilate,
} from "./kernel-support.js";
import { polyphaseInputGradient } from "./polyphase.js";

export function conv2dBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as RefCountingBackend;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const { dy: dyInfo, filter: filterInfo } = args.inputs;
  if (dyInfo === undefined || filterInfo === undefined) {
    throw new Error("Conv2DBackpropInput expects inputs dy and filter");
  }
  if (attrs.dataFormat === "NCHW") {
    throw new Error("Conv2DBackpropInput on wasm supports NHWC only");
  }
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filterInfo.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const [strideH, strideW] = pair(attrs.strides);
  return runComposite(backend, () => {
    const dy = viewAsTensor(dyInfo, backend) as tf.Tensor4D;
    const filter = viewAsTensor(filterInfo, backend) as tf.Tensor4D;
    const [filterH, filterW] = filter.shape;
    if (filterH === 1 && filterW === 1 && info.padInfo.top === 0 && info.padInfo.left === 0) {
      // A strided 1x1 convolution: project dy back on its own small grid,
      // then spread it onto the input grid, instead of convolving a 4x
      // larger zero-dilated tensor.
      const projected = tf.conv2d(
        dy,
        tf.transpose(filter, [0, 1, 3, 2]) as tf.Tensor4D,
        1,
        "valid",
      );
      const spread = zeroDilate(projected, strideH, strideW);
      const { x: cropped, padding } = cropNegativePadding(
        spread,
        0,
        info.inHeight - spread.shape[1],
        0,
        info.inWidth - spread.shape[2],
      );
      return tf.pad(cropped, padding);
    }
    if (strideH === strideW && strideH > 1) {
      return polyphaseInputGradient(dy, filter.dataSync() as Float32Array, info, strideH);
    }
    // [KH, KW, ci, co] -> flipped [KH, KW, co, ci].
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return convolveDilatedGradient(dy, info, strideH, strideW, (input, padding) =>
      tf.conv2d(input, flipped, 1, padding),
    );
  });
}

/**
 * Shared by the dense and depthwise input gradients: zero-dilates dy by the
 * forward stride and computes the padding that turns a stride-1 "full"
 * convolution with the flipped filter into exactly the forward input shape.
 */
export function convolveDilatedGradient(
  dy: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
  strideH: number,
  strideW: number,
  convolve: (
    input: tf.Tensor4D,
    padding: ReturnType<typeof cropNegativePadding>["padding"],
  ) => tf.Tensor4D,
): tf.Tensor4D {
  const { filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
  const dilated = zeroDilate(dy, strideH, strideW);
  const top = filterHeight - 1 - padInfo.top;
  const left = filterWidth - 1 - padInfo.left;
  // zeroDilate leaves stride-1 trailing zero rows/columns: count them in.
  const bottom = inHeight - 1 + padInfo.top - (outHeight - 1) * strideH - (strideH - 1);
  const right = inWidth - 1 + padInfo.left - (outWidth - 1) * strideW - (strideW - 1);
  const { x, padding } = cropNegativePadding(dilated, top, bottom, left, right);
  return convolve(x, padding);
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: "wasm",
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
