/**
 * The values a `supernas` field allows, as a sorted list without repeats: a
 * single value, a list, or an inclusive range `{min, max, step}`. Pure data,
 * shared by the recipe checks and the candidate spaces drawn from the section.
 */
import type { AllowedValues } from "./types.js";

export function allowedValues(field: AllowedValues): number[] {
  if (typeof field === "number") return [field];
  if (Array.isArray(field)) return [...new Set(field)].sort((a, b) => a - b);
  const values: number[] = [];
  for (let value = field.min; value <= field.max; value += field.step ?? 1) values.push(value);
  return values;
}

/** Whether a field is a range (`{min, max, step}`) rather than a value or a list. */
export function isRange(
  field: AllowedValues,
): field is { min: number; max: number; step?: number } {
  return typeof field === "object" && !Array.isArray(field);
}
