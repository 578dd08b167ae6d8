/**
 * Checks that the dataset settings leave images for every use: accuracy is
 * measured (quantize) and the generated code verified (verify-host,
 * verify-target) on the test split, or on the validation split when there is
 * no test split. An image-folder dataset has a test split only with
 * `test_path`; without it, `validation_fraction: 0` leaves nothing to
 * measure, which would fail only when those stages run.
 *
 * And that no image count asks for more images than its split can hold,
 * where the recipe alone bounds the split: CIFAR-10 has 50000 training and
 * 10000 test images, and `train_limit` / `test_limit` cut a split to their
 * size. The stages would silently use fewer. Only counts written in the
 * recipe (or --set) are checked: a default larger than a small split means
 * "all of them".
 */
import { CIFAR10_OFFICIAL_IMAGES } from "../datasets/cifar10-binary.js";
import type { Diagnostic } from "./diagnostic.js";
import { problemAt, type RecipeCheck, settingText } from "./semantic-checks.js";
import type { SourceStack } from "./source-stack.js";
import type { Recipe } from "./types.js";

const FORMAT = "/dataset/format";
const TEST_PATH = "/dataset/test_path";
const VALIDATION_FRACTION = "/dataset/validation_fraction";
const TRAIN_LIMIT = "/dataset/train_limit";
const TEST_LIMIT = "/dataset/test_limit";

/** Counts of training images (after the validation hold-out). */
const TRAINING_COUNTS = ["/quantization/calibration_images", "/search/recalibration_images"];
/** Counts of test images (0 means the whole split). */
const TEST_COUNTS = [
  "/verification/host_images",
  "/verification/target_images",
  "/quantization/evaluation_images",
];

/** CIFAR-10's classes: each holds out round(fraction x its count), at most half an image less. */
const CIFAR10_CLASSES = 10;

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

/** At most `count` images; `why` says so in words, ending with the count. */
interface SplitBound {
  readonly count: number;
  readonly why: string;
}

/** The images a split's source offers: the limit when set, else the official size when known. */
function sourceBound(
  sources: SourceStack,
  official: number | undefined,
  limitPointer: string,
  limit: number,
  name: string,
): SplitBound | undefined {
  if (limit > 0 && (official === undefined || limit < official)) {
    return {
      count: limit,
      why: `${settingText(sources, limitPointer, limit)} keeps at most ${limit} ${name} images`,
    };
  }
  return official === undefined
    ? undefined
    : { count: official, why: `CIFAR-10 has ${official} ${name} images` };
}

/** The training split: the training source less what the seeded split holds out for validation. */
function trainingBound(recipe: Recipe, sources: SourceStack): SplitBound | undefined {
  const { format, train_limit: limit, validation_fraction: fraction } = recipe.dataset;
  const cifar = format === "cifar10-binary";
  const source = sourceBound(
    sources,
    cifar ? CIFAR10_OFFICIAL_IMAGES.train : undefined,
    TRAIN_LIMIT,
    limit,
    "training",
  );
  if (source === undefined || fraction === 0) return source;
  // The classes of an image folder are unknown here: count nothing held out.
  if (!cifar) return source;
  const count =
    source.count - Math.max(0, Math.ceil(fraction * source.count - CIFAR10_CLASSES / 2));
  return {
    count,
    why: `${source.why}, less those ${settingText(sources, VALIDATION_FRACTION, fraction)} holds out for validation: at most ${count}`,
  };
}

/** The split accuracy is measured and the code verified on, when it is the test split. */
function testBound(recipe: Recipe, sources: SourceStack): SplitBound | undefined {
  const { format, test_path: testPath, test_limit: limit } = recipe.dataset;
  if (format === "cifar10-binary") {
    return sourceBound(sources, CIFAR10_OFFICIAL_IMAGES.test, TEST_LIMIT, limit, "test");
  }
  // Without test_path the validation split stands in; its size depends on the classes.
  return testPath === undefined
    ? undefined
    : sourceBound(sources, undefined, TEST_LIMIT, limit, "test");
}

function countsOver(
  recipe: Recipe,
  sources: SourceStack,
  pointers: readonly string[],
  split: string,
  bound: SplitBound | undefined,
): Diagnostic[] {
  if (bound === undefined) return [];
  return pointers.flatMap((pointer) => {
    const count = valueAt(recipe, pointer);
    if (!sources.isSet(pointer) || count <= bound.count) return [];
    return [
      problemAt(
        sources,
        pointer,
        `${count} is more than the ${split} split can hold: ${bound.why}`,
      ),
    ];
  });
}

/** The number at a pointer of the validated recipe (every pointer here names an integer). */
function valueAt(recipe: Recipe, pointer: string): number {
  let value: unknown = recipe;
  for (const segment of pointer.split("/").slice(1)) {
    value = (value as Record<string, unknown>)[segment];
  }
  return value as number;
}

function checkImageCounts(recipe: Recipe, sources: SourceStack): Diagnostic[] {
  return [
    ...countsOver(recipe, sources, TRAINING_COUNTS, "training", trainingBound(recipe, sources)),
    ...countsOver(recipe, sources, TEST_COUNTS, "test", testBound(recipe, sources)),
  ];
}

export const DATASET_CHECKS: readonly RecipeCheck[] = [
  {
    name: "accuracy and verification have images",
    reads: [FORMAT, TEST_PATH, VALIDATION_FRACTION],
    run: checkEvaluationImages,
  },
  {
    name: "image counts fit their split",
    reads: [
      FORMAT,
      TEST_PATH,
      VALIDATION_FRACTION,
      TRAIN_LIMIT,
      TEST_LIMIT,
      ...TRAINING_COUNTS,
      ...TEST_COUNTS,
    ],
    run: checkImageCounts,
  },
];
