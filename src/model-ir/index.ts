/** Public API of the model IR: types, building, validation, files, sparse encoding. */
export * from "./blob.js";
export * from "./builder.js";
export * from "./io.js";
export * from "./shapes.js";
export * from "./sparse-encoding.js";
export * from "./types.js";
export * from "./validate.js";
