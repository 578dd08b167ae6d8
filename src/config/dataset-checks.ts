/**
 * Checks that the dataset settings leave images for every use: accuracy is
 * measured (quantize) and the generated code verified (verify-host,
 * verify-target) on the test split, or on the validation split when there is
 * no test split. An image-folder dataset has a test split only with
 * `test_path`; without it, `validation_fraction: 0` leaves nothing to
 * measure, which would fail only when those stages run.
 */
import type { Diagnostic } from "./diagnostic.js";
import { problemAt, type RecipeCheck } from "./semantic-checks.js";
import type { SourceStack } from "./source-stack.js";
import type { Recipe } from "./types.js";

const VALIDATION_FRACTION = "/dataset/validation_fraction";

function checkEvaluationImages(recipe: Recipe, sources: SourceStack): Diagnostic[] {
  const { format, test_path: testPath, validation_fraction: fraction } = recipe.dataset;
  if (format !== "image-folder" || testPath !== undefined || fraction > 0) return [];
  return [
    problemAt(
      sources,
      VALIDATION_FRACTION,
      "0 leaves no images to measure accuracy and verify the generated code on: an image-folder dataset without dataset.test_path has no test split (set test_path, or a validation_fraction above 0)",
    ),
  ];
}

export const DATASET_CHECKS: readonly RecipeCheck[] = [
  {
    name: "accuracy and verification have images",
    reads: ["/dataset/format", "/dataset/test_path", VALIDATION_FRACTION],
    run: checkEvaluationImages,
  },
];
