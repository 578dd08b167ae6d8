/**
 * One ajv configuration for the configuration schemas, shared by the build
 * step that precompiles validators (scripts/compile-schemas.ts) and the
 * runtime fallback, so both validate identically. Precompiling matters:
 * compiling the recipe schema takes ~150 ms, more than half of a no-op
 * build's budget.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Ajv2020 } from "ajv/dist/2020.js";
import { schemasDir } from "../project-paths.js";

export const SCHEMA_NAMES = ["workspace", "recipe", "board"] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** ajv itself is imported only here, lazily: a no-op build uses the precompiled validators. */
export async function createSchemaCompiler(options: { standalone: boolean }): Promise<Ajv2020> {
  const { Ajv2020 } = await import("ajv/dist/2020.js");
  return new Ajv2020({
    allErrors: true,
    useDefaults: true,
    discriminator: true,
    strict: true,
    // Errors carry the failing value and schema: messages list allowed keys.
    verbose: true,
    ...(options.standalone ? { code: { source: true, esm: true } } : {}),
  });
}

export interface SchemaSource {
  schema: Record<string, unknown>;
  /** SHA-256 of the schema file: a precompiled validator is used only if it matches. */
  digest: string;
}

export function readSchema(name: SchemaName): SchemaSource {
  const text = readFileSync(join(schemasDir, `${name}.schema.json`), "utf8");
  return {
    schema: JSON.parse(text) as Record<string, unknown>,
    digest: createHash("sha256").update(text).digest("hex"),
  };
}
