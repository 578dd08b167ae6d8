/**
 * `npm run bench -- e2e`: the default recipe in a fresh copy of the shipped
 * workspace, built from an empty cache, then again (a no-op), then after an
 * edit to a C template (only codegen onwards reruns). Wall time of each, and
 * the headline numbers of the report. Last stdout line:
 * {"cold_s", "noop_ms", "noop_again_ms", "template_edit_s", "accuracy_float", "accuracy_int8",
 *  "flash_bytes", "sram_bytes", "instructions", "reran_after_template_edit"}.
 *
 * The template edit appends a comment to a template of the package (codegen
 * reads the shipped templates) and restores it afterwards, whatever happens.
 */
import { execFileSync } from "node:child_process";
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot, templatesDir } from "../src/project-paths.js";
import type { BuildReport } from "../src/report/types.js";

const cli = join(packageRoot, "bin", "tinyformer.js");

export async function main(): Promise<void> {
  const workspace = await mkdtemp(join(tmpdir(), "tinyformer-e2e-"));
  const template = join(templatesDir, "c", "model", "tf_model.c.hbs");
  const original = await readFile(template, "utf8");
  try {
    for (const entry of ["tinyformer.yaml", "recipes", "boards", "data"]) {
      await cp(join(packageRoot, entry), join(workspace, entry), { recursive: true });
    }
    const build = () => {
      const started = process.hrtime.bigint();
      const output = execFileSync(process.execPath, [cli, "-C", workspace, "build"], {
        encoding: "utf8",
      });
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9, output };
    };
    const cold = build();
    process.stderr.write(cold.output);
    // The first no-op right after a cold build re-reads what was written
    // too recently to trust by timestamp (racily clean): the compiled code
    // if `npm run bench` just built it, inputs copied a moment before the
    // build. The second one is what every later no-op costs.
    const noop = build();
    const noopAgain = build();
    await appendFile(template, "\n{{!-- benchmark edit --}}\n");
    const edited = build();
    const reran = [...edited.output.matchAll(/^ {2}run {7}(\S+):/gm)].map((match) => match[1]);
    const report = await readFile(
      join(workspace, "build", "default", "report", "report.json"),
      "utf8",
    )
      .then((text) => JSON.parse(text) as BuildReport)
      .catch(() => undefined);
    const quantize = JSON.parse(
      await readFile(join(workspace, "build", "default", "quantize", "quantize.json"), "utf8"),
    ) as { accuracy: { float: number; int8: number } };
    const result = {
      cold_s: round(cold.seconds),
      noop_ms: round(noop.seconds * 1000),
      noop_again_ms: round(noopAgain.seconds * 1000),
      template_edit_s: round(edited.seconds),
      accuracy_float: quantize.accuracy.float,
      accuracy_int8: quantize.accuracy.int8,
      flash_bytes: report?.memory.flash.used_bytes ?? null,
      sram_bytes: report?.memory.sram.used_bytes ?? null,
      instructions: report?.performance.instructions_per_inference ?? null,
      reran_after_template_edit: reran,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await writeFile(template, original);
    await rm(workspace, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
