/**
 * Registers the gradient kernels the WebAssembly backend (tfjs 4.22) lacks,
 * plus a faster `Conv2DBackpropInput`, all composed from forward kernels it
 * has. Found by running training steps of ResNet-, MobileNetV2- and
 * MobileViT-style blocks on wasm: every other gradient those blocks need
 * (matmul, softmax, moments, erf, pooling, batch norm, reshape/transpose,
 * slice/concat, cross-entropy) already runs there.
 */
import * as tf from "@tensorflow/tfjs-core";
import { conv2dBackpropFilterConfig } from "./conv2d-backprop-filter.js";
import { conv2dBackpropInputConfig } from "./conv2d-backprop-input.js";
import { depthwiseConv2dBackpropFilterConfig } from "./depthwise-conv2d-backprop-filter.js";
import { depthwiseConv2dBackpropInputConfig } from "./depthwise-conv2d-backprop-input.js";

/** The kernels `registerWasmGradientKernels` installs, in registration order. */
export const wasmGradientKernelConfigs: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  depthwiseConv2dBackpropFilterConfig,
  depthwiseConv2dBackpropInputConfig,
];

/**
 * Idempotent: replaces any kernel already registered under the same name for
 * the wasm backend (the stock `Conv2DBackpropInput`, or ours from an earlier
 * call) without tfjs's "already registered" warning.
 */
export function registerWasmGradientKernels(): void {
  for (const config of wasmGradientKernelConfigs) {
    if (tf.getKernel(config.kernelName, config.backendName) !== undefined) {
      tf.unregisterKernel(config.kernelName, config.backendName);
    }
    tf.registerKernel(config);
  }
}
