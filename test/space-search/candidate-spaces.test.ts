/**
 * Candidate spaces drawn from a `supernas` section: seeded, distinct, every
 * field within what the section allows, MobileViT heads dividing every
 * embedding dim, and each candidate accepted by the block library.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSupernet } from "../../src/blocks/network.js";
import { allowedValues } from "../../src/config/allowed-values.js";
import type { SupernasSection } from "../../src/config/types.js";
import { drawCandidateSpaces } from "../../src/space-search/candidate-spaces.js";
import { loadTf } from "../blocks/support.js";

const SECTION: SupernasSection = {
  candidates: 12,
  samples_per_space: 8,
  choices_per_field: 2,
  min_feasible_fraction: 0.25,
  stem: { channels: { min: 8, max: 16, step: 4 }, stride: 1 },
  stages: [
    {
      blocks: ["mbv2", "resnet"],
      depth: [1, 2],
      channels: [16, 24, 32],
      expansion: [2, 3, 4],
      kernel_size: [3, 5],
      heads: [2],
      mlp_ratio: [2],
      patch_size: 2,
      stride: 2,
    },
    {
      blocks: ["mbv2", "mobilevit"],
      depth: { min: 1, max: 2 },
      channels: [32, 48],
      expansion: [2],
      kernel_size: [3],
      embed_dim: [24, 32, 48],
      heads: [2, 3, 4],
      mlp_ratio: [1, 2],
      patch_size: 2,
      stride: 2,
    },
  ],
  head: { dropout: 0 },
};

const list = (field: number | number[]) => (Array.isArray(field) ? field : [field]);

test("the same section and seed give the same candidates; another seed others", () => {
  const a = drawCandidateSpaces(SECTION, 7);
  assert.equal(a.length, SECTION.candidates);
  assert.equal(JSON.stringify(drawCandidateSpaces(SECTION, 7)), JSON.stringify(a));
  assert.notEqual(JSON.stringify(drawCandidateSpaces(SECTION, 8)), JSON.stringify(a));
  assert.equal(new Set(a.map((space) => JSON.stringify(space))).size, a.length, "distinct");
});

test("every field takes at most choices_per_field of the allowed values; heads divide every embed dim", () => {
  const blocks = new Set<string>();
  for (const space of drawCandidateSpaces(SECTION, 3)) {
    const stem = list(space.stem.channels);
    assert.ok(stem.length <= 2 && stem.every((c) => [8, 12, 16].includes(c)), `${stem}`);
    space.stages.forEach((stage, index) => {
      const allowed = SECTION.stages[index] as SupernasSection["stages"][number];
      blocks.add(`${index}:${stage.block}`);
      assert.ok(allowed.blocks.includes(stage.block));
      assert.equal(stage.stride, allowed.stride);
      for (const [field, values] of [
        ["depth", stage.depth],
        ["channels", stage.channels],
      ] as const) {
        const chosen = list(values);
        const permitted = allowedValues(allowed[field]);
        assert.ok(chosen.length <= 2 && chosen.every((v) => permitted.includes(v)), field);
        assert.deepEqual(
          chosen,
          [...chosen].sort((x, y) => x - y),
          `${field} ascending`,
        );
      }
      if (stage.block === "mobilevit")
        for (const embed of list(stage.embed_dim))
          for (const head of list(stage.heads)) assert.equal(embed % head, 0, `${embed}/${head}`);
    });
  }
  // Twelve draws use every block type each stage allows.
  assert.deepEqual([...blocks].sort(), ["0:mbv2", "0:resnet", "1:mbv2", "1:mobilevit"]);
});

test("every candidate builds as a supernet", async () => {
  await loadTf();
  for (const space of drawCandidateSpaces(SECTION, 5).slice(0, 4)) {
    const supernet = createSupernet(space, { classes: 10, inputResolution: 32, seed: 1 });
    supernet.dispose();
  }
});

test("a section allowing fewer distinct spaces than asked gives each once", () => {
  const narrow: SupernasSection = {
    ...SECTION,
    candidates: 50,
    choices_per_field: 1,
    stem: { channels: 8, stride: 1 },
    stages: [
      {
        ...(SECTION.stages[0] as SupernasSection["stages"][number]),
        blocks: ["resnet"],
        depth: 1,
        channels: [16, 24],
        kernel_size: 3,
      },
    ],
  };
  // One block type, one depth, one kernel, one value per field: channels 16 or 24.
  assert.equal(drawCandidateSpaces(narrow, 1).length, 2);
});
