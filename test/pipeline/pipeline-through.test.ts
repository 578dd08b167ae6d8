/** The pipeline up to a stage: that stage and everything it depends on, in pipeline order. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createPipelineThrough } from "../../src/pipeline/pipeline.js";

const names = (last: Parameters<typeof createPipelineThrough>[1]) =>
  createPipelineThrough({ backend: "auto" }, last).map((stage) => stage.name);

test("a stage comes with everything upstream of it and nothing downstream", () => {
  assert.deepEqual(names("dataset"), ["dataset"]);
  assert.deepEqual(names("supernas"), ["dataset", "space-search", "supernas"]);
  assert.deepEqual(names("quantize"), [
    "dataset",
    "space-search",
    "supernas",
    "sparsenas",
    "finetune",
    "quantize",
  ]);
  // verify-host needs compile-host and quantize's chain, not the target's.
  assert.deepEqual(names("verify-host"), [
    "dataset",
    "space-search",
    "supernas",
    "sparsenas",
    "finetune",
    "quantize",
    "codegen",
    "compile-host",
    "verify-host",
  ]);
});
