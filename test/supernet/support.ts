/** A small search space with every block type, and two of its sub-networks. */
import type { PartialArchitectureChoice, SearchSpace } from "../../src/blocks/search-space.js";

export const SPACE: SearchSpace = {
  stem: { channels: [8, 12], stride: 1 },
  stages: [
    {
      block: "mbv2",
      depth: [1, 2],
      channels: [8, 16],
      expansion: [2, 3],
      kernel_size: [3, 5],
      stride: 2,
    },
    { block: "resnet", depth: 1, channels: [12, 16], kernel_size: [3, 5], stride: 1 },
    {
      block: "mobilevit",
      depth: [1, 2],
      channels: [8, 16],
      embed_dim: [8, 16],
      heads: [1, 2],
      mlp_ratio: [1, 2],
      patch_size: 2,
      stride: 1,
    },
  ],
  head: { dropout: 0 },
};

export const SMALL: PartialArchitectureChoice = {
  stem: { channels: 8 },
  stages: [
    { depth: 1, channels: 8, expansion: 2, kernel_size: 3 },
    { channels: 12, kernel_size: 3 },
    { depth: 1, channels: 8, embed_dim: 8, heads: 2, mlp_ratio: 1 },
  ],
};

export const MIDDLE: PartialArchitectureChoice = {
  stem: { channels: 12 },
  stages: [
    { depth: 1, channels: 16, expansion: 3, kernel_size: 3 },
    { channels: 12, kernel_size: 5 },
    { depth: 1, channels: 16, embed_dim: 8, heads: 2, mlp_ratio: 2 },
  ],
};

export const LARGE: PartialArchitectureChoice = {
  stem: { channels: 12 },
  stages: [
    { depth: 2, channels: 16, expansion: 3, kernel_size: 5 },
    { channels: 16, kernel_size: 5 },
    { depth: 2, channels: 16, embed_dim: 16, heads: 2, mlp_ratio: 2 },
  ],
};
