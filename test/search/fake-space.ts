/**
 * A search without tfjs: a real search space, layer options derived from the
 * architecture the way a network would name its layers, and a deterministic
 * assessment whose "accuracy" grows with width and falls with sparsity, so
 * the evolution has something to climb.
 */
import type { ArchitectureChoice, SearchSpace } from "../../src/blocks/search-space.js";
import type { Candidate, LayerOptions } from "../../src/search/candidate.js";
import type { Assessment } from "../../src/search/evolution.js";
import type { OperatorSpace } from "../../src/search/operators.js";

export const FAKE_SPACE: SearchSpace = {
  stem: { channels: [8, 16], stride: 1 },
  stages: [
    {
      block: "mbv2",
      depth: [1, 2, 3],
      channels: [16, 24, 32],
      expansion: [2, 4],
      kernel_size: [3, 5],
      stride: 2,
    },
    {
      block: "mobilevit",
      depth: [1, 2],
      channels: [32, 48],
      embed_dim: [32, 48],
      heads: [2, 4],
      mlp_ratio: [1, 2],
      patch_size: 2,
      stride: 1,
    },
  ],
  head: { dropout: 0 },
};

export const fakeOperatorSpace: OperatorSpace = {
  searchSpace: FAKE_SPACE,
  layerOptions(architecture: ArchitectureChoice): LayerOptions[] {
    const options: LayerOptions[] = [
      {
        name: "stem",
        rowLength: 27,
        targets: [0],
        blockSizes: [],
        denseReason: "first-conv layer",
      },
    ];
    const mbv2 = architecture.stages[0];
    for (let j = 0; j < (mbv2?.depth ?? 0); j++)
      for (const part of ["expand", "project"])
        options.push({
          name: `stage0.block${j}.${part}`,
          rowLength: 8 * (j + 1),
          targets: [0.25, 0.5, 0.75],
          blockSizes: [1, 4, 8],
        });
    const vit = architecture.stages[1];
    for (let l = 0; l < (vit?.depth ?? 0); l++)
      options.push({
        name: `stage1.block0.layer${l}.mlp.fc1`,
        rowLength: 48,
        targets: [0.25, 0.5, 0.75],
        blockSizes: [1, 4, 8, 16],
      });
    options.push({
      name: "classifier",
      rowLength: 48,
      targets: [0],
      blockSizes: [],
      denseReason: "classifier layer",
    });
    return options;
  },
};

/** Flash grows with width and depth and shrinks with sparsity; accuracy likewise, plus a little hash noise. */
export function fakeAssess(
  candidate: Candidate,
  flashBudget = Number.POSITIVE_INFINITY,
): Assessment {
  const { architecture, layers } = candidate;
  const width =
    architecture.stem.channels +
    architecture.stages.reduce((s, st) => s + st.channels * st.depth, 0);
  const density = layers.reduce((s, l) => s + (1 - l.target), 0) / layers.length;
  const flashBytes = Math.round(1000 * width * density);
  const text = JSON.stringify(candidate);
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  const predicted = { flashBytes, sramBytes: 100 * width, instructions: 10 * flashBytes };
  const violations =
    flashBytes > flashBudget
      ? [`flash: ${flashBytes} bytes over the budget of ${flashBudget}`]
      : [];
  const accuracy =
    violations.length > 0
      ? null
      : Math.min(0.99, width / 300 + density / 10 + (hash % 100) / 10000);
  return { predicted, violations, accuracy };
}
