/** Checks a report against schemas/report.schema.json; returns one line per problem. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { schemasDir } from "../project-paths.js";

export async function validateReport(report: unknown): Promise<string[]> {
  const { Ajv2020 } = await import("ajv/dist/2020.js");
  const schema = JSON.parse(await readFile(join(schemasDir, "report.schema.json"), "utf8"));
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
  if (validate(report)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || "/"}: ${error.message ?? error.keyword}`,
  );
}
