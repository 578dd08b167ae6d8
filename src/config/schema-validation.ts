/**
 * Validates configuration values against the JSON Schemas in `schemas/`
 * (draft 2020-12, unknown keys rejected, defaults filled in) and turns every
 * ajv error into a diagnostic at the offending key or value.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import { createDiagnostic, type Diagnostic } from "./diagnostic.js";
import { createSchemaCompiler, readSchema, type SchemaName } from "./schema-compiler.js";
import type { SourceStack } from "./source-stack.js";

export type { SchemaName };

const validators = new Map<SchemaName, Promise<ValidateFunction>>();

/**
 * The precompiled validator from the build (dist/src/config/validators/)
 * when it matches the schema file on disk; otherwise one compiled now.
 */
function validatorFor(name: SchemaName): Promise<ValidateFunction> {
  let pending = validators.get(name);
  if (pending === undefined) {
    pending = (async () => {
      const { schema, digest } = readSchema(name);
      try {
        const module = (await import(`./validators/${name}.js`)) as {
          schemaDigest: string;
          default: ValidateFunction;
        };
        if (module.schemaDigest === digest) return module.default;
      } catch {
        // Not built (running from source): compile below.
      }
      return (await createSchemaCompiler({ standalone: false })).compile(schema);
    })();
    validators.set(name, pending);
  }
  return pending;
}

/**
 * Validates `value` in place (defaults are written into it) and returns one
 * diagnostic per problem, located through `sources`.
 */
export async function validateAgainstSchema(
  name: SchemaName,
  value: unknown,
  sources: SourceStack,
): Promise<Diagnostic[]> {
  const validate = await validatorFor(name);
  if (validate(value)) return [];
  return relevantErrors(validate.errors ?? []).map((error) => {
    const { pointer, useKey } = targetOf(error);
    const located = sources.locate(pointer, useKey);
    return createDiagnostic(located.source, located.range, describeError(error));
  });
}

/**
 * Drops errors that only repeat another one. With `oneOf`, ajv reports the failure of every branch and then "must match
 * exactly one schema". When some branch errors sit deeper than the `oneOf`
 * itself, those say what is wrong; the summary adds nothing.
 */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  return errors.filter((error) => {
    // An unknown tag is also reported by the tag's own `enum`, at the tag itself.
    if (error.keyword === "discriminator") {
      const tagPath = `${error.instancePath}/${String((error.params as { tag: string }).tag)}`;
      return !errors.some((other) => other.instancePath === tagPath);
    }
    if (error.keyword !== "oneOf") return true;
    return !errors.some(
      (other) => other !== error && other.instancePath.startsWith(`${error.instancePath}/`),
    );
  });
}

function targetOf(error: ErrorObject): { pointer: string; useKey: boolean } {
  if (error.keyword === "additionalProperties") {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    return {
      pointer: `${error.instancePath}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`,
      useKey: true,
    };
  }
  if (error.keyword === "required") return { pointer: error.instancePath, useKey: true };
  return { pointer: error.instancePath, useKey: false };
}

/** `a/b/0` → `a.b[0]`, the way users write keys in `--set` and docs. */
export function pointerToDottedPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce(
      (path, segment) =>
        /^\d+$/.test(segment)
          ? `${path}[${segment}]`
          : path === ""
            ? segment
            : `${path}.${segment}`,
      "",
    );
}

function describeError(error: ErrorObject): string {
  const path = pointerToDottedPath(error.instancePath);
  const at = (text: string) => (path === "" ? text : `${path}: ${text}`);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(
        (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ??
          {},
      );
      const suggestion = closestMatch(key, allowed);
      const hint =
        suggestion !== undefined
          ? ` (did you mean "${suggestion}"?)`
          : allowed.length > 0
            ? ` (expected one of: ${allowed.join(", ")})`
            : "";
      return at(`unknown key "${key}"${hint}`);
    }
    case "required":
      return at(`missing required key "${String(params.missingProperty)}"`);
    case "type":
      return at(`must be ${String(params.type)}, got ${typeName(error.data)}`);
    case "enum":
      return at(
        `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(error.data)}`,
      );
    case "const":
      return at(`must be ${JSON.stringify(params.allowedValue)}`);
    case "discriminator":
      return at(
        params.error === "mapping"
          ? `unknown ${String(params.tag)} ${JSON.stringify(params.tagValue)} (expected one of: ${discriminatorValues(error).join(", ")})`
          : `"${String(params.tag)}" must be a string`,
      );
    case "oneOf":
      return at("must be a single value or a list of values of the allowed kind");
    default:
      return at(error.message ?? `fails ${error.keyword}`);
  }
}

function discriminatorValues(error: ErrorObject): string[] {
  const branches =
    (error.parentSchema as { oneOf?: { properties?: Record<string, { const?: unknown }> }[] })
      ?.oneOf ?? [];
  const tag = String((error.params as { tag: string }).tag);
  return branches.map((branch) => String(branch.properties?.[tag]?.const));
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The allowed key within edit distance 2 of a misspelt one, if any. */
function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(
        Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
