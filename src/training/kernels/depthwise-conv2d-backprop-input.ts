/**
 * `DepthwiseConv2dNativeBackpropInput` for the WebAssembly backend, which
 * lacks it.
 *
 * As for a dense convolution, the input gradient is a stride-1 convolution of
 * the zero-dilated output gradient with the spatially flipped filter; here that
 * convolution is itself depthwise. With a channel multiplier m > 1, dy holds
 * c*m channels: convolve each with its own filter, then sum the m channels
 * that belong to the same input channel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { convolveDilatedGradient } from "./conv2d-backprop-input.js";
import { pair, type RefCountingBackend, runComposite, viewAsTensor } from "./kernel-support.js";

export function depthwiseConv2dBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as RefCountingBackend;
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const { dy: dyInfo, filter: filterInfo } = args.inputs;
  if (dyInfo === undefined || filterInfo === undefined) {
    throw new Error("DepthwiseConv2dNativeBackpropInput expects inputs dy and filter");
  }
  const [dilationH, dilationW] = pair(attrs.dilations);
  if (dilationH !== 1 || dilationW !== 1) {
    throw new Error("DepthwiseConv2dNativeBackpropInput supports dilation 1 only");
  }
  const filterShape = filterInfo.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const [strideH, strideW] = pair(attrs.strides);
  const [filterH, filterW, channels, multiplier] = filterShape;
  return runComposite(backend, () => {
    const dy = viewAsTensor(dyInfo, backend) as tf.Tensor4D;
    const filter = viewAsTensor(filterInfo, backend) as tf.Tensor4D;
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [
      filterH,
      filterW,
      channels * multiplier,
      1,
    ]) as tf.Tensor4D;
    const perChannel = convolveDilatedGradient(dy, info, strideH, strideW, (input, padding) =>
      tf.depthwiseConv2d(input, flipped, 1, padding),
    );
    if (multiplier === 1) return perChannel;
    const [n, h, w] = perChannel.shape;
    const summed = tf.sum(tf.reshape(perChannel, [n * h * w, channels, multiplier]), 2);
    return tf.reshape(summed, [n, h, w, channels]);
  });
}

export const depthwiseConv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: "wasm",
  kernelFunc: depthwiseConv2dBackpropInput as unknown as tf.KernelFunc,
};
