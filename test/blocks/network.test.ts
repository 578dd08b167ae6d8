/**
 * Networks from a search space: export parity of a whole network with every
 * block type, the layer names the recipe's sparsity settings refer to, the
 * handling of choices, block sizes and pruned zeros through export, and a
 * short training run on the wasm backend.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type * as TfCore from "@tensorflow/tfjs-core";
import { createNetwork } from "../../src/blocks/network.js";
import { resolveArchitectureChoice, type SearchSpace } from "../../src/blocks/search-space.js";
import type { ImageDataset } from "../../src/datasets/image-dataset.js";
import { createSeededRandom } from "../../src/datasets/seeded-random.js";
import { trainNetwork } from "../../src/training/loop.js";
import {
  assertIrMatches,
  loadTf,
  mixedSearchSpace,
  randomImages,
  randomizeState,
} from "./support.js";

let tf: typeof TfCore;
before(async () => {
  tf = await loadTf();
});

const options = { classes: 10, inputResolution: 16, seed: 3 };

const EXPECTED_LAYERS = [
  "stem",
  "stage0.block0.expand",
  "stage0.block0.depthwise",
  "stage0.block0.project",
  "stage0.block1.expand",
  "stage0.block1.depthwise",
  "stage0.block1.project",
  "stage1.block0.conv1",
  "stage1.block0.conv2",
  "stage1.block0.shortcut",
  "stage2.down.expand",
  "stage2.down.depthwise",
  "stage2.down.project",
  "stage2.block0.local",
  "stage2.block0.embed",
  ...[0, 1].flatMap((l) =>
    ["attn.q", "attn.k", "attn.v", "attn.proj", "mlp.fc1", "mlp.fc2"].map(
      (part) => `stage2.block0.layer${l}.${part}`,
    ),
  ),
  "stage2.block0.proj",
  "stage2.block0.fusion",
  "classifier",
];

describe("networks from a search space", () => {
  test("a network with every block type exports with the same numerics (batch 2)", () => {
    const network = createNetwork(mixedSearchSpace(), options);
    try {
      randomizeState(tf, network.parameters, 21);
      const shape: [number, number, number, number] = [2, 16, 16, 3];
      const input = randomImages(shape, 17);
      const expected = tf.tidy(() =>
        network.apply(tf.tensor4d(input, shape), { training: false }).dataSync(),
      );
      const model = network.exportModel({ name: "mixed", batch: 2 });
      assert.deepEqual(model.graph.inputs, ["image"]);
      assert.deepEqual(model.graph.outputs, ["classifier"]);
      assert.deepEqual(model.graph.tensors.find((t) => t.name === "classifier")?.shape, [2, 10]);
      assertIrMatches(model, input, expected, "mixed network");
    } finally {
      network.parameters.dispose();
    }
  });

  test("layers have stable names shared by tfjs parameters and IR ops", () => {
    const network = createNetwork(mixedSearchSpace(), options);
    try {
      const layers = network.layers();
      assert.deepEqual(
        layers.map((l) => l.name),
        EXPECTED_LAYERS,
      );
      assert.deepEqual(
        layers.filter((l) => !l.prunable).map((l) => [l.name, l.role]),
        [
          ["stem", "first-conv"],
          ["classifier", "classifier"],
        ],
      );
      // Every tfjs parameter is "<layer>/<part>" or "<layer>/bn/<part>" or a norm's.
      const parameterNames = [...network.parameters.byName.keys()];
      for (const layer of EXPECTED_LAYERS)
        assert.ok(parameterNames.includes(`${layer}/kernel`), `no parameter ${layer}/kernel`);
      assert.ok(parameterNames.includes("stage2.block0.layer1.norm2/gamma"));
      assert.ok(parameterNames.includes("stage0.block1.depthwise/bn/moving_variance"));
      // IR: one conv2d / linear op per layer, named after it, in forward order.
      const model = network.exportModel();
      const weightOps = model.graph.ops.filter(
        (op) => op.type === "conv2d" || op.type === "linear",
      );
      assert.deepEqual(
        weightOps.map((op) => op.name),
        EXPECTED_LAYERS,
      );
      for (const [i, op] of weightOps.entries()) {
        const layer = layers[i];
        const weight = model.graph.tensors.find((t) => t.name === op.inputs[1]);
        assert.deepEqual(weight?.shape, layer?.irShape, `${op.name} weight shape`);
      }
      // The recipe schema's default keep_dense names exist.
      assert.ok(
        layers.some((l) => l.name === "stem") && layers.some((l) => l.name === "classifier"),
      );
    } finally {
      network.parameters.dispose();
    }
  });

  test("a field with several values needs a choice; a bad choice names the field", () => {
    const space: SearchSpace = {
      stem: { channels: [8, 16], stride: 1 },
      stages: [
        { block: "mbv2", depth: [1, 2], channels: 8, expansion: 2, kernel_size: [3, 5], stride: 1 },
      ],
      head: { dropout: 0 },
    };
    // Every problem at once, one line per field.
    assert.throws(() => createNetwork(space, options), {
      message: [
        "search_space.stem.channels has 2 choices (8, 16): the architecture choice must pick one",
        "search_space.stages[0].depth has 2 choices (1, 2): the architecture choice must pick one",
        "search_space.stages[0].kernel_size has 2 choices (3, 5): the architecture choice must pick one",
      ].join("\n"),
    });
    assert.throws(
      () => createNetwork(space, options, { stem: { channels: 16 }, stages: [{ depth: 2 }] }),
      /search_space\.stages\[0\]\.kernel_size has 2 choices \(3, 5\)/,
    );
    assert.throws(
      () => resolveArchitectureChoice(space, { stem: { channels: 12 } }),
      /search_space\.stem\.channels: 12 is not one of its choices \(8, 16\)/,
    );
    assert.throws(
      () => resolveArchitectureChoice(space, { stem: { channels: 8 }, stages: [{ heads: 2 }] }),
      /stages\[0\] \(mbv2\) has no searchable field heads/,
    );
    assert.throws(
      () => resolveArchitectureChoice(space, { stages: [{ block: "resnet" }] }),
      /stages\[0\] is a mbv2 stage, the choice says resnet/,
    );
    assert.throws(
      () => resolveArchitectureChoice(space, { stages: [undefined, {}] }),
      /2 stages, search_space\.stages has 1/,
    );
    const resolved = resolveArchitectureChoice(space, {
      stem: { channels: 16 },
      stages: [{ depth: 1, kernel_size: 5 }],
    });
    assert.deepEqual(resolved, {
      stem: { channels: 16 },
      stages: [{ block: "mbv2", depth: 1, channels: 8, expansion: 2, kernel_size: 5 }],
    });
    const vit: SearchSpace = {
      stem: { channels: 8, stride: 1 },
      stages: [
        {
          block: "mobilevit",
          depth: 1,
          channels: 8,
          embed_dim: 12,
          heads: [2, 5],
          mlp_ratio: 2,
          patch_size: 2,
          stride: 1,
        },
      ],
      head: { dropout: 0 },
    };
    assert.throws(
      () => resolveArchitectureChoice(vit, { stages: [{ heads: 5 }] }),
      /embed_dim 12 is not divisible by heads 5/,
    );
    // The feature map must split into patches.
    assert.throws(
      () => createNetwork(vit, { ...options, inputResolution: 15 }, { stages: [{ heads: 2 }] }),
      /search_space\.stages\[0\]\.patch_size 2 does not divide the 15x15 feature map/,
    );
  });

  test("pruned weights stay exact zeros through export and carry their block size", () => {
    const network = createNetwork(mixedSearchSpace(), options);
    try {
      randomizeState(tf, network.parameters, 5);
      const layers = network.layers();
      const blockSizes = new Map<string, 1 | 4 | 8 | 16>([
        ["stage0.block0.expand", 4],
        ["stage1.block0.conv2", 4],
        ["stage2.block0.layer0.attn.q", 8],
        ["stage2.block0.fusion", 16],
        ["stage0.block1.depthwise", 1],
      ]);
      const random = createSeededRandom(12);
      const expectedZeros = new Map<string, boolean[]>();
      for (const [name, size] of blockSizes) {
        const layer = layers.find((l) => l.name === name);
        assert.ok(layer !== undefined, name);
        const values = layer.readWeight();
        // Zero about half of the blocks of each row.
        for (let start = 0; start < values.length; start += size)
          if (random.next() < 0.5) values.fill(0, start, start + size);
        layer.writeWeight(values);
        assert.deepEqual(layer.readWeight(), values, `${name} reads back what was written`);
        expectedZeros.set(
          name,
          Array.from(values, (v) => v === 0),
        );
      }
      const shape: [number, number, number, number] = [1, 16, 16, 3];
      const input = randomImages(shape, 2);
      const expected = tf.tidy(() =>
        network.apply(tf.tensor4d(input, shape), { training: false }).dataSync(),
      );
      const model = network.exportModel({ blockSizes });
      assertIrMatches(model, input, expected, "pruned network");
      for (const tensor of model.graph.tensors) {
        const layer = tensor.name.endsWith(".weight") ? tensor.name.slice(0, -7) : undefined;
        if (layer === undefined) continue;
        const size = blockSizes.get(layer);
        assert.deepEqual(
          tensor.sparsity,
          size === undefined ? undefined : { blockSize: size },
          `${layer} sparsity`,
        );
        const zeros = expectedZeros.get(layer);
        if (zeros === undefined || tensor.data?.encoding !== "dense") continue;
        const values = new Float32Array(
          model.blob.buffer,
          model.blob.byteOffset + tensor.data.offset,
          tensor.data.byteLength / 4,
        );
        assert.deepEqual(
          Array.from(values, (v) => Object.is(v, 0)),
          zeros,
          `${layer}: exactly the pruned weights are +0 in the IR`,
        );
      }
      assert.throws(
        () => network.exportModel({ blockSizes: { "stage0.block0.depthwise": 4 } }),
        /stage0\.block0\.depthwise: block size 4 does not divide its row length 9/,
      );
      assert.throws(
        () => network.exportModel({ blockSizes: { stem: 1 } }),
        /block size given for stem, which is kept dense \(first-conv\)/,
      );
      assert.throws(
        () => network.exportModel({ blockSizes: { "stage9.block0.expand": 4 } }),
        /block size given for stage9\.block0\.expand, which is not a conv or linear layer/,
      );
    } finally {
      network.parameters.dispose();
    }
  });

  test("a tiny network trains with trainNetwork on wasm", async () => {
    const space: SearchSpace = {
      stem: { channels: 8, stride: 1 },
      stages: [
        { block: "mbv2", depth: 1, channels: 8, expansion: 2, kernel_size: 3, stride: 2 },
        { block: "resnet", depth: 1, channels: 8, kernel_size: 3, stride: 1 },
        {
          block: "mobilevit",
          depth: 1,
          channels: 8,
          embed_dim: 8,
          heads: 2,
          mlp_ratio: 2,
          patch_size: 2,
          stride: 1,
        },
      ],
      head: { dropout: 0.2 },
    };
    const network = createNetwork(space, { classes: 2, inputResolution: 8, seed: 1 });
    try {
      const count = 16;
      const random = createSeededRandom(4);
      const images = new Uint8Array(count * 8 * 8 * 3);
      const labels = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        labels[i] = i % 2;
        // Class 1 images are brighter: learnable in a few steps.
        for (let j = 0; j < 8 * 8 * 3; j++)
          images[i * 192 + j] = Math.floor(random.next() * 128) + (i % 2) * 100;
      }
      const train: ImageDataset = {
        count,
        height: 8,
        width: 8,
        channels: 3,
        images,
        labels,
        classNames: ["dark", "bright"],
      };
      const before = network.parameters.byName
        .get("stage2.block0.layer0.attn.q/kernel")
        ?.dataSync()
        .slice();
      const tensorsBefore = tf.memory().numTensors;
      const result = await trainNetwork({
        network,
        train,
        normalization: { mean: [0.4, 0.4, 0.4], std: [0.25, 0.25, 0.25] },
        epochs: 2,
        batchSize: 8,
        optimizer: { kind: "adam" },
        learningRate: 0.01,
        augment: false,
        seed: 2,
      });
      result.optimizer.dispose();
      assert.equal(result.steps, 4);
      for (const epoch of result.history) assert.ok(Number.isFinite(epoch.loss));
      const after = network.parameters.byName.get("stage2.block0.layer0.attn.q/kernel")?.dataSync();
      assert.notDeepEqual(after, before, "attention weights were updated");
      assert.equal(tf.memory().numTensors, tensorsBefore, "no tensor leaked");
    } finally {
      network.parameters.dispose();
    }
  });
});
