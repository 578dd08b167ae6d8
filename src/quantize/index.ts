/** Public API of post-training int8 quantization. */
export { type CalibrationOptions, calibrateRanges, type Range } from "./calibration.js";
export { dequantizeValues, quantizeValues } from "./quant-params.js";
export { type QuantizeOptions, quantizeInput, quantizeModel } from "./quantize-model.js";
