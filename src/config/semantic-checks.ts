/**
 * Checks of a recipe beyond its schema: values each valid on its own that
 * cannot work together (a heads choice that does not divide an embed_dim
 * choice, search settings that contradict each other). Without them such a
 * recipe fails late, when a stage runs, with no position; here each problem
 * is a diagnostic at the offending value, through `--set` and `extends:`,
 * reported together with the schema's.
 *
 * Pure data checks over the validated recipe (defaults filled in): nothing
 * here knows about stages, networks or tfjs. A check declares the values it
 * reads and is skipped when the schema rejected one of them, so it only ever
 * sees values of the documented types.
 */
import type { Diagnostic } from "./diagnostic.js";
import { pointerToDottedPath } from "./schema-validation.js";
import type { SourceStack } from "./source-stack.js";
import type { Choice, Recipe } from "./types.js";

export interface RecipeCheck {
  /** What the check is about, for tests and debugging. */
  readonly name: string;
  /**
   * JSON Pointers of the values the check reads. It is skipped when the
   * schema found a problem at one of them, inside one or above one.
   */
  readonly reads: readonly string[];
  /** One diagnostic per problem, every problem at once. */
  run(recipe: Recipe, sources: SourceStack): Diagnostic[];
}

/**
 * Runs every check whose values the schema accepted. `rejected` are the
 * problems found so far; one that is not about a configuration value (a
 * `--set` argument that did not parse) leaves the merged recipe in doubt,
 * and then no check runs.
 */
export function runRecipeChecks(
  checks: readonly RecipeCheck[],
  recipe: Recipe,
  sources: SourceStack,
  rejected: readonly Diagnostic[],
): Diagnostic[] {
  const pointers: string[] = [];
  for (const { pointer } of rejected) {
    if (pointer === undefined) return [];
    pointers.push(pointer);
  }
  const clean = (read: string) =>
    !pointers.some(
      (pointer) =>
        pointer === read || pointer.startsWith(`${read}/`) || read.startsWith(`${pointer}/`),
    );
  return checks
    .filter((check) => check.reads.every(clean))
    .flatMap((check) => check.run(recipe, sources));
}

/** One choice of a search-space field and where it is. */
export interface ChoiceItem {
  readonly value: number;
  /** The list item's pointer, or the field's for a single value. */
  readonly pointer: string;
}

/** The choices of a field (a value, or a list of choices) at `pointer`. */
export function choiceItems(pointer: string, field: Choice<number>): ChoiceItem[] {
  return Array.isArray(field)
    ? field.map((value, index) => ({ value, pointer: `${pointer}/${index}` }))
    : [{ value: field, pointer }];
}

/** Whether a field offers the search more than one value. */
export function hasChoices(field: Choice<number>): boolean {
  return Array.isArray(field) && field.length > 1;
}

/** `5`, or `5 (the default)` when no file or `--set` gives the value. */
export function valueText(sources: SourceStack, pointer: string, value: unknown): string {
  const text = Array.isArray(value) ? value.join(", ") : String(value);
  return sources.isSet(pointer) ? text : `${text} (the default)`;
}

/** `search.parents 5`, or `search.parents 5 (the default)`. */
export function settingText(sources: SourceStack, pointer: string, value: unknown): string {
  return `${pointerToDottedPath(pointer)} ${valueText(sources, pointer, value)}`;
}

/** Of several values a problem involves, the first one the user wrote (else the first). */
export function firstSet(sources: SourceStack, pointers: readonly [string, ...string[]]): string {
  return pointers.find((pointer) => sources.isSet(pointer)) ?? pointers[0];
}

/** A diagnostic at `pointer`, its message after the value's path as users write it. */
export function problemAt(sources: SourceStack, pointer: string, message: string): Diagnostic {
  return sources.diagnostic(pointer, `${pointerToDottedPath(pointer)}: ${message}`);
}
