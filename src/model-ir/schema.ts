/**
 * Structural validation of the model JSON against
 * schemas/model-ir.schema.json (JSON Schema 2020-12, ajv). The schema file
 * ships with the package; it is found by walking up from this module, which
 * works both from src/ and from the compiled dist/src/.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020.js";

const SCHEMA_FILE = join("schemas", "model-ir.schema.json");

function findSchemaPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, SCHEMA_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`cannot find ${SCHEMA_FILE} above ${fileURLToPath(import.meta.url)}`);
}

let compiled: ValidateFunction | undefined;

/** The compiled validator, created on first use. */
export function getModelIrValidator(): ValidateFunction {
  if (compiled === undefined) {
    const schema = JSON.parse(readFileSync(findSchemaPath(), "utf8")) as object;
    // ajv is CommonJS: under NodeNext the default import is module.exports,
    // whose `default` property is the class.
    const ajv = new Ajv2020.default({ allErrors: true, discriminator: true, strict: false });
    compiled = ajv.compile(schema);
  }
  return compiled;
}
