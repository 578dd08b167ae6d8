/**
 * The generator's own guarantees: deterministic output, the arena planned by
 * planArena, only the kernels the model uses, banner and per-layer comments,
 * the summary, the input-quantize helper, and clear errors for what has no
 * kernel.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import {
  buildHostHarness,
  CODEGEN_VERSION,
  generateModelCode,
  irDigest,
  planMemory,
  selectKernels,
  UnsupportedOpError,
} from "../../src/codegen/index.js";
import { planArena } from "../../src/memory-planner/plan-arena.js";
import { createModelBuilder } from "../../src/model-ir/builder.js";
import type { Model } from "../../src/model-ir/types.js";
import { templatesDir } from "../../src/project-paths.js";
import { quantizeInput, quantizeModel } from "../../src/quantize/index.js";
import { loadCostModel } from "../../src/sparse-engine/cost-model.js";
import { execTool } from "../../src/toolchain/exec.js";
import { CLANG_FORMAT, requireTool } from "../../src/toolchain/tools.js";
import { createRandomImages } from "../support/sample-models.js";
import {
  generateAndVerify,
  generateInto,
  quantizedCnn,
  quantizedMobileVit,
  randomInputs,
  withTempDir,
} from "./codegen-helpers.js";

const run = promisify(execFile);

describe("generateModelCode", () => {
  const model = quantizedCnn(8, 2);

  it("is deterministic: the same IR gives the same files, byte for byte", async () => {
    const a = await generateModelCode(model);
    const b = await generateModelCode(structuredClone(model));
    assert.deepEqual(
      a.files.map((f) => f.path),
      b.files.map((f) => f.path),
    );
    for (const [i, f] of a.files.entries()) assert.equal(f.contents, b.files[i]?.contents, f.path);
  });

  it("allocates exactly planArena's arena over the tensor lifetimes and scratch", async () => {
    const program = await generateModelCode(model);
    const header = program.files.find((f) => f.path === "tf_model.h")?.contents ?? "";
    const source = program.files.find((f) => f.path === "tf_model.c")?.contents ?? "";
    const declared = Number(/#define TF_MODEL_ARENA_SIZE (\d+)/.exec(header)?.[1]);
    assert.equal(declared, program.memory.plan.arenaBytes);
    assert.equal(program.summary.arena.bytes, declared);
    assert.match(source, /static int8_t tf_arena\[TF_MODEL_ARENA_SIZE\]/);
    // The plan is planArena's over the requests planMemory makes.
    const requests = program.memory.plan.buffers.map(({ offset, sharesWith, ...r }) => r);
    assert.equal(planArena(requests).arenaBytes, declared);
    assert.ok(program.summary.arena.lowerBoundBytes <= declared);
    // Every layer's scratch request has the kernel's size.
    for (const layer of program.layers) {
      const scratch = program.memory.plan.buffers.find((b) => b.id === `scratch:${layer.op.name}`);
      assert.equal(scratch?.bytes ?? 0, layer.scratchBytes, layer.op.name);
    }
    // The element-wise LUT writes over its input.
    const lut = program.summary.layers.find((l) => l.op === "fc1.hswish");
    assert.equal(lut?.inPlace, true);
  });

  it("copies only the kernels the model calls, with their helpers", async () => {
    const program = await generateModelCode(model, { weightPolicy: "dense" });
    const kernels = program.files.filter((f) => f.path.startsWith("kernels/")).map((f) => f.path);
    assert.ok(kernels.includes("kernels/tf_conv_kxk_s8.c"));
    assert.ok(kernels.includes("kernels/tf_nn_conv_rows_s8.c"), "helper of the conv kernels");
    // (the shared row driver links the sparse row helpers even for dense layers)
    for (const unused of [
      "tf_batch_matmul_s8",
      "tf_softmax_s8",
      "tf_conv_kxk_sparse_s8",
      "tf_linear_sparse_s8",
    ])
      assert.ok(!kernels.includes(`kernels/${unused}.c`), unused);
    assert.ok(program.files.some((f) => f.path === "include/tf_nn.h"));
  });

  it("writes a banner with version and IR digest, and names each layer's op", async () => {
    const program = await generateModelCode(model);
    const source = program.files.find((f) => f.path === "tf_model.c")?.contents ?? "";
    assert.match(source, /do not edit/);
    assert.ok(source.includes(CODEGEN_VERSION));
    assert.ok(source.includes(`sha256:${irDigest(model)}`));
    for (const [i, op] of model.graph.ops.entries())
      assert.ok(source.includes(`/* layer ${i}: ${op.type} "${op.name}" -> tf_`), op.name);
    // No floating point on the int8 path, no heap anywhere.
    const run = source.slice(source.indexOf("tf_status tf_model_run("));
    assert.doesNotMatch(run, /\b(float|double)\b/);
    assert.doesNotMatch(source, /\b(malloc|calloc|realloc|free)\s*\(/);
  });

  it("the header records the input and output shapes and quantization exactly", async () => {
    const program = await generateModelCode(model);
    const header = program.files.find((f) => f.path === "tf_model.h")?.contents ?? "";
    // A define's value, also when it continues on the next line.
    const define = (name: string) =>
      new RegExp(`#define ${name} (?:\\\\\n\\s*)?(.+)`).exec(header)?.[1];
    for (const [which, tensorName] of [
      ["INPUT", model.graph.inputs[0]],
      ["OUTPUT", model.graph.outputs[0]],
    ] as const) {
      const t = model.graph.tensors.find((x) => x.name === tensorName);
      assert.ok(t?.quant !== undefined);
      assert.equal(define(`TF_MODEL_${which}_SHAPE`), `{ ${t.shape.join(", ")} }`);
      assert.equal(
        Number(define(`TF_MODEL_${which}_SIZE`)),
        t.shape.reduce((a, b) => a * b, 1),
      );
      // Parenthesised, so that `x - TF_MODEL_INPUT_ZERO_POINT` stays valid C.
      assert.equal(define(`TF_MODEL_${which}_ZERO_POINT`), `(${t.quant.zeroPoint[0]})`);
      assert.equal(Number(define(`TF_MODEL_${which}_SCALE`)?.slice(1, -1)), t.quant.scale[0]);
    }
  });

  it("the header is laid out as templates/c/.clang-format says, and the tables are fenced off", async () => {
    const program = await generateModelCode(quantizedMobileVit());
    const clangFormat = await requireTool(CLANG_FORMAT);
    const styleFile = join(templatesDir, "c", ".clang-format");
    for (const path of ["tf_model.h", "tf_model.c"]) {
      const text = program.files.find((f) => f.path === path)?.contents ?? "";
      if (path === "tf_model.c") {
        // The constant tables keep the generator's layout (sixteen values a line).
        const off = text.indexOf("/* clang-format off */");
        const on = text.indexOf("/* clang-format on */");
        const table = "TF_MODEL_ALIGN(4) = {";
        assert.ok(off > 0 && off < text.indexOf(table), "tables fenced off");
        assert.ok(text.lastIndexOf(table) < on, "tables fenced off to the last");
        continue;
      }
      const formatted = await execTool(
        clangFormat,
        [`--style=file:${styleFile}`, `--assume-filename=${path}`],
        { input: text },
      );
      assert.equal(formatted.exitCode, 0, formatted.stderr);
      assert.equal(formatted.stdout, text, `${path} differs from clang-format's layout`);
    }
  });

  it("summarises kernels, MACs and weight bytes per layer", async () => {
    const program = await generateModelCode(model, { weightPolicy: "sparse" });
    const s = program.summary;
    assert.equal(s.layers.length, model.graph.ops.length);
    const pw = s.layers.find((l) => l.op === "pw");
    assert.equal(pw?.kernel, "tf_conv_1x1_sparse_s8");
    assert.equal(pw?.macs, 6 * 6 * 16 * 16);
    assert.ok(pw?.estimatedInstructions?.sparse !== undefined);
    assert.equal(
      s.totals.macs,
      s.layers.reduce((a, l) => a + l.macs, 0),
    );
    const json = program.files.find((f) => f.path === "codegen.json")?.contents ?? "";
    assert.deepEqual(JSON.parse(json), s);
  });

  it("follows the cost model by default", async () => {
    const program = await generateModelCode(model);
    for (const layer of program.layers) {
      if (layer.cost === undefined) continue;
      const sparse = layer.call.variant.includes("sparse");
      const cheaper =
        layer.cost.sparseInstructions !== undefined &&
        layer.cost.sparseInstructions < layer.cost.denseInstructions;
      assert.equal(sparse, cheaper, layer.op.name);
    }
  });

  it("the input-quantize helper equals quantizeInput", async () => {
    await withTempDir(async (dir) => {
      const { written } = await generateInto(dir, model);
      const exe = await buildHostHarness(written, join(dir, "host"));
      const [image] = createRandomImages(1, [1, 12, 12, 3], 3);
      const x = Float32Array.from(image as Float32Array, (v, i) => (v - 0.5) * (i % 7) * 3);
      x[0] = 1e9;
      x[1] = -1e9;
      await writeFile(join(dir, "x.f32"), new Uint8Array(x.buffer));
      await run(exe, ["quantize", join(dir, "x.f32"), join(dir, "x.i8")]);
      const q = new Int8Array((await readFile(join(dir, "x.i8"))).buffer.slice(0));
      assert.deepEqual(Array.from(q), Array.from(quantizeInput(model, x)));
    });
  });
});

/**
 * A float model with element-wise ops: same-shape mul of two branches,
 * or broadcasting add / mul (channel vector, single channel, and the smaller
 * operand first); "grouped" has a grouped conv no kernel runs.
 */
function opsModel(variant: "mul" | "broadcast" | "grouped"): Model {
  const b = createModelBuilder(`ops-${variant}`);
  const x = b.input("x", [1, 4, 4, 8]);
  const w = (name: string, shape: number[]) =>
    b.constant(
      name,
      shape,
      Float32Array.from(
        { length: shape.reduce((p, q) => p * q, 1) },
        (_, i) => Math.sin(i + 1) * 0.3,
      ),
    );
  const conv = (name: string, input: string, out: number, groups: number) =>
    b.op({
      type: "conv2d",
      name,
      inputs: [input, w(`${name}.w`, [out, 1, 1, 8 / groups])],
      attrs: { strides: [1, 1], dilations: [1, 1], padding: "valid", groups, activation: "none" },
    });
  const a = conv("a", x, 8, variant === "grouped" ? 2 : 1);
  let y: string;
  if (variant === "broadcast") {
    const pooled = b.op({ type: "global_avg_pool", name: "pool", inputs: [a], attrs: {} });
    const r = b.op({
      type: "reshape",
      name: "r",
      inputs: [pooled],
      attrs: { shape: [1, 1, 1, 8] },
    });
    const s = b.op({
      type: "add",
      name: "scale.add",
      inputs: [a, r],
      attrs: { activation: "none" },
    });
    const g = conv("g", x, 1, 1);
    const m = b.op({ type: "mul", name: "gate", inputs: [s, g], attrs: { activation: "none" } });
    y = b.op({ type: "add", name: "bias.add", inputs: [r, m], attrs: { activation: "relu" } });
  } else {
    const c = conv("c", x, 8, 1);
    y = b.op({ type: "mul", name: "gate", inputs: [a, c], attrs: { activation: "relu" } });
  }
  b.output(y);
  return quantizeModel(b.finish(), createRandomImages(3, [1, 4, 4, 8], 4));
}

describe("op coverage", () => {
  it("mul runs through the mul kernel, equal to runInt8", async () => {
    const model = opsModel("mul");
    const { verification, generated } = await generateAndVerify(model, randomInputs(model, 4, 2));
    assert.equal(verification.mismatch?.message, undefined);
    assert.ok(generated.summary.kernels.includes("tf_mul_s8"));
  });

  it("the MobileViT sample uses unfold, fold and concat kernels", async () => {
    const program = await generateModelCode(quantizedMobileVit());
    for (const k of ["tf_unfold_s8", "tf_fold_s8", "tf_concat_s8", "tf_batch_matmul_s8"])
      assert.ok(program.summary.kernels.includes(k), k);
  });

  it("broadcasting add and mul run through the broadcast kernels, equal to runInt8", async () => {
    const model = opsModel("broadcast");
    const { verification, generated } = await generateAndVerify(model, randomInputs(model, 4, 3), {
      sanitize: true,
    });
    assert.equal(verification.mismatch?.message, undefined);
    const byOp = new Map(generated.summary.layers.map((l) => [l.op, l.kernel]));
    assert.equal(byOp.get("scale.add"), "tf_add_broadcast_s8");
    assert.equal(byOp.get("gate"), "tf_mul_broadcast_s8");
    assert.equal(byOp.get("bias.add"), "tf_add_broadcast_s8");
  });

  it("an op without a kernel fails naming the op and the layer", () => {
    assert.throws(
      () => selectKernels(opsModel("grouped"), loadCostModel()),
      (e: unknown) =>
        e instanceof UnsupportedOpError &&
        e.message ===
          'codegen: no SparseEngine kernel for conv2d "a": grouped convolution with 2 groups (only depthwise and dense convs have kernels)',
    );
  });

  it("planMemory gives every activation an offset", async () => {
    const model = quantizedMobileVit();
    const layers = selectKernels(model, loadCostModel());
    const memory = planMemory(model, layers);
    for (const layer of layers) assert.ok(memory.tensorOffsets.has(layer.output), layer.output);
    assert.ok(memory.tensorOffsets.has(model.graph.inputs[0] ?? ""));
    assert.ok(randomInputs(model, 1, 1)[0]?.length === 16 * 16 * 3);
  });
});
