/**
 * A wrong byte in the generated C is reported with the first layer whose
 * output differs from the interpreter's dump.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { verifyHost } from "../../src/codegen/index.js";
import { generateInto, quantizedCnn, randomInputs, withTempDir } from "./codegen-helpers.js";

it("a corrupted weight is traced to its layer", async () => {
  const model = quantizedCnn(4, 21);
  await withTempDir(async (dir) => {
    const { written, generated } = await generateInto(dir, model, { weightPolicy: "dense" });
    const layer = generated.layers.find((l) => l.op.name === "pw");
    assert.ok(layer !== undefined);
    const source = join(written.dir, "tf_model.c");
    const text = await readFile(source, "utf8");
    // Replace the first value of layer pw's dense weight with a different one.
    const marker = `static const int8_t l${layer.index}_weight[`;
    const start = text.indexOf("{\n    ", text.indexOf(marker)) + 6;
    const end = text.indexOf(",", start);
    const first = Number(text.slice(start, end));
    const corrupted = `${text.slice(0, start)}${first === 100 ? 99 : 100}${text.slice(end)}`;
    await writeFile(source, corrupted);

    const result = await verifyHost({
      model,
      program: written,
      inputs: randomInputs(model, 3, 4),
      workDir: join(dir, "work"),
    });
    const mismatch = result.mismatch;
    assert.ok(mismatch !== undefined, "the corruption is detected");
    assert.equal(mismatch.input, 0);
    assert.deepEqual(
      { index: mismatch.layer?.index, op: mismatch.layer?.op, kernel: mismatch.layer?.kernel },
      { index: layer.index, op: "pw", kernel: "tf_conv_1x1_s8" },
    );
    assert.match(
      mismatch.message,
      new RegExp(
        `first differing layer: ${layer.index} conv2d "pw" \\(tf_conv_1x1_s8\\), byte \\d+`,
      ),
    );
  });
});
