/**
 * The TypeScript scratch sizes (what the memory planner uses) equal the C
 * kernels' *_get_buffer_size for many shapes.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  batchMatmulScratchBytes,
  conv1x1ScratchBytes,
  convKxKScratchBytes,
  depthwiseScratchBytes,
  linearScratchBytes,
  softmaxScratchBytes,
} from "../../src/sparse-engine/scratch-sizes.js";
import { kernelIncludeDir, listKernelSources } from "../../src/toolchain/c-sources.js";
import { compileHost } from "../../src/toolchain/compile-host.js";
import { execTool } from "../../src/toolchain/exec.js";

/** Softmax's diff_min: above zero, zero, small, at the table's end and far past it. */
const DIFF_MINS = [3, 0, -30, -255, -256, -496, -100000];

test("scratch sizes match the C get_buffer_size functions", async () => {
  const shapes = [
    [1, 1, 1, 1],
    [3, 3, 32, 32],
    [1, 1, 64, 128],
    [5, 4, 7, 13],
    [2, 3, 17, 1],
  ] as const;
  const program = [
    "#include <stdio.h>",
    '#include "tf_nn.h"',
    "int main(void) {",
    ...shapes.flatMap(([kh, kw, c, o]) => [
      `  { tf_dims in = {1, 8, 8, ${c}}; tf_dims f = {${o}, ${kh}, ${kw}, ${c}}; tf_dims d = {${o}, ${kh}, ${kw}, 1};`,
      '    printf("%d %d %d %d %d %d %d\\n", (int)tf_conv_1x1_s8_get_buffer_size(&in, &f),',
      "      (int)tf_conv_1x1_sparse_s8_get_buffer_size(&in, &f), (int)tf_conv_kxk_s8_get_buffer_size(&in, &f),",
      "      (int)tf_conv_kxk_sparse_s8_get_buffer_size(&in, &f), (int)tf_depthwise_conv_s8_get_buffer_size(&d),",
      `      (int)tf_linear_s8_get_buffer_size(${c}, ${o}), (int)tf_linear_sparse_s8_get_buffer_size(${c}, ${o}));`,
      `    printf("%d %d\\n", (int)tf_batch_matmul_s8_get_buffer_size(${c}, ${o}, 0), (int)tf_batch_matmul_s8_get_buffer_size(${c}, ${o}, 1)); }`,
    ]),
    ...DIFF_MINS.map(
      (diffMin) => `  printf("%d\\n", (int)tf_softmax_s8_get_buffer_size(${diffMin}));`,
    ),
    "  return 0;",
    "}",
    "",
  ].join("\n");
  const dir = await mkdtemp(join(tmpdir(), "tf-scratch-"));
  try {
    const src = join(dir, "sizes.c");
    await writeFile(src, program);
    const { output } = await compileHost({
      sources: [src, ...listKernelSources()],
      includeDirs: [kernelIncludeDir],
      output: join(dir, "sizes"),
    });
    const run = await execTool(output, []);
    assert.equal(run.exitCode, 0, run.stderr);
    const expected = shapes
      .flatMap(([kh, kw, c, o]) => [
        [
          conv1x1ScratchBytes(c, o),
          conv1x1ScratchBytes(c, o),
          convKxKScratchBytes(kh, kw, c, o),
          convKxKScratchBytes(kh, kw, c, o),
          depthwiseScratchBytes(kh, kw, o),
          linearScratchBytes(c, o),
          linearScratchBytes(c, o),
        ].join(" "),
        [batchMatmulScratchBytes(c, o, false), batchMatmulScratchBytes(c, o, true)].join(" "),
      ])
      .concat(DIFF_MINS.map((diffMin) => String(softmaxScratchBytes(diffMin))))
      .join("\n");
    assert.equal(run.stdout.trim(), expected);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
