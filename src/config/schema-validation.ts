/**
 * Validates configuration values against the JSON Schemas in `schemas/`
 * (draft 2020-12, unknown keys rejected, defaults filled in) and turns every
 * ajv error into a diagnostic at the offending key or value.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Diagnostic } from "./diagnostic.js";
import { createSchemaCompiler, readSchema, type SchemaName } from "./schema-compiler.js";
import type { SourceStack } from "./source-stack.js";
import { escapePointerSegment } from "./yaml-source.js";

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
    return sources.diagnostic(pointer, describeError(error), { preferKey: useKey });
  });
}

/**
 * Drops errors that only repeat or mislead. With `oneOf`, ajv reports the
 * failure of every branch and then "must match exactly one schema":
 *
 *   - a field that takes a value or a list of values (`widthChoice`) given a
 *     list fails the single-value branch too ("must be integer"), which says
 *     nothing useful; only the branch of the value's kind (list or not)
 *     speaks about it;
 *   - when some branch error remains, it says what is wrong; the summary adds
 *     nothing.
 */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const otherKind = new Set(
    errors.flatMap((error) =>
      error.keyword === "oneOf" ? otherKindBranchErrors(error, errors) : [],
    ),
  );
  const kept = errors.filter((error) => !otherKind.has(error));
  return kept.filter((error) => {
    // An unknown tag is also reported by the tag's own `enum`, at the tag itself.
    if (error.keyword === "discriminator") {
      const tagPath = `${error.instancePath}/${String((error.params as { tag: string }).tag)}`;
      return !kept.some((other) => other.instancePath === tagPath);
    }
    if (error.keyword !== "oneOf") return true;
    return !kept.some(
      (other) =>
        other !== error &&
        (other.instancePath.startsWith(`${error.instancePath}/`) || isBranchError(other, error)),
    );
  });
}

/** Errors of `oneOf`'s branches made for the other kind of value (a list where it is not, or the reverse). */
function otherKindBranchErrors(oneOf: ErrorObject, errors: readonly ErrorObject[]): ErrorObject[] {
  const branches = oneOf.schema;
  if (!Array.isArray(branches)) return [];
  const isList = Array.isArray(oneOf.data);
  const applies = branches.map(
    (branch) => ((branch as { type?: unknown } | null)?.type === "array") === isList,
  );
  // Only when the kind of value tells the branches apart.
  if (applies.every((a) => a) || applies.every((a) => !a)) return [];
  return errors.filter((other) => {
    if (!isBranchError(other, oneOf)) return false;
    const branch = Number(other.schemaPath.slice(oneOf.schemaPath.length + 1).split("/")[0]);
    return applies[branch] === false;
  });
}

/** Whether `error` comes from one of `oneOf`'s branches, for the same value or one inside it. */
function isBranchError(error: ErrorObject, oneOf: ErrorObject): boolean {
  return (
    error !== oneOf &&
    error.schemaPath.startsWith(`${oneOf.schemaPath}/`) &&
    (error.instancePath === oneOf.instancePath ||
      error.instancePath.startsWith(`${oneOf.instancePath}/`))
  );
}

function targetOf(error: ErrorObject): { pointer: string; useKey: boolean } {
  if (error.keyword === "additionalProperties") {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    return { pointer: `${error.instancePath}/${escapePointerSegment(key)}`, useKey: true };
  }
  if (error.keyword === "required") {
    // The missing key's own pointer: it is located at its parent's key.
    const key = String((error.params as { missingProperty: string }).missingProperty);
    return { pointer: `${error.instancePath}/${escapePointerSegment(key)}`, useKey: true };
  }
  if (error.keyword === "uniqueItems") {
    return { pointer: `${error.instancePath}/${laterDuplicate(error)}`, useKey: false };
  }
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
      return at(
        isNonFinite(error.data)
          ? `must be a finite ${String(params.type)}, got ${showValue(error.data)}`
          : `must be ${String(params.type)}, got ${typeName(error.data)}`,
      );
    case "enum":
      return at(
        `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, got ${showValue(error.data)}`,
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
    case "minItems": {
      const limit = Number(params.limit);
      const count = Array.isArray(error.data) ? error.data.length : 0;
      if (count === 0 && CHOICE_LIST.test(error.schemaPath)) {
        return at("an empty list of choices: give one value, or list the values to choose from");
      }
      return at(`must list at least ${limit} value${limit === 1 ? "" : "s"}, got ${count}`);
    }
    case "uniqueItems": {
      const later = laterDuplicate(error);
      const earlier = Math.min(Number(params.i), Number(params.j));
      const value = Array.isArray(error.data) ? error.data[later] : undefined;
      return `${path}[${later}]: ${showValue(value)} is already listed (at [${earlier}]); list each value once`;
    }
    default:
      return at(error.message ?? `fails ${error.keyword}`);
  }
}

/**
 * The list branch of a field that takes one value or a list of choices
 * (`widthChoice` and the other `*Choice` definitions, `sparsity.global_target`): a `oneOf` whose
 * second branch is the list.
 */
const CHOICE_LIST = /\/oneOf\/\d+\/minItems$/;

/** Index of the second of two equal items ajv reports for `uniqueItems`. */
function laterDuplicate(error: ErrorObject): number {
  const { i, j } = error.params as { i: number; j: number };
  return Math.max(i, j);
}

function discriminatorValues(error: ErrorObject): string[] {
  const branches =
    (error.parentSchema as { oneOf?: { properties?: Record<string, { const?: unknown }> }[] })
      ?.oneOf ?? [];
  const tag = String((error.params as { tag: string }).tag);
  return branches.map((branch) => String(branch.properties?.[tag]?.const));
}

/** YAML's `.nan` and `.inf` parse to numbers JSON cannot hold (JSON.stringify says null). */
function isNonFinite(value: unknown): value is number {
  return typeof value === "number" && !Number.isFinite(value);
}

/** A value as users wrote it: JSON, except the non-finite numbers, spelt as in YAML. */
function showValue(value: unknown): string {
  if (isNonFinite(value)) return Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
  return JSON.stringify(value) ?? String(value);
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
