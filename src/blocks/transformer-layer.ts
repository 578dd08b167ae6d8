/**
 * A pre-norm transformer layer as MobileViT uses it, with a GELU MLP:
 *
 *   x ─► norm1 ─► attn (q, k, v, softmax(q kᵀ / √d) v, proj) ─► (+ x) = y
 *   y ─► norm2 ─► mlp.fc1 ─► GELU ─► mlp.fc2 ─► (+ y) ─►
 *
 * tfjs runs on [sequences * tokens, dim] rows; heads are split with rank-4
 * transposes. Q, K and V are separate linear layers: the IR has no slice op
 * to split a fused qkv projection, and slicing one is slow on wasm. Every
 * linear layer slices its [max in, max out] variable to the active width,
 * so embed_dim, heads and mlp_ratio are all elastic.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ParameterSet } from "../training/layers.js";
import { gelu } from "../training/layers.js";
import { exportLayerNorm, exportLinear } from "./ir-export.js";
import { type LinearChoice, SliceableLayerNorm, SliceableLinear } from "./sliceable-layers.js";
import type { Block, ExportContext } from "./types.js";

export interface TransformerLayerShape {
  readonly maxDim: number;
  readonly maxMlpRatio: number;
  /** Tokens per sequence (fixed by the feature map and patch size). */
  readonly tokens: number;
}

export interface TransformerLayerChoice {
  readonly dim: number;
  readonly heads: number;
  readonly mlpRatio: number;
}

export function createTransformerLayer(
  params: ParameterSet,
  name: string,
  shape: TransformerLayerShape,
): Block<TransformerLayerChoice, tf.Tensor2D, tf.Tensor2D> {
  const { maxDim, tokens } = shape;
  const maxHidden = maxDim * shape.maxMlpRatio;
  const norm1 = new SliceableLayerNorm(params, `${name}.norm1`, maxDim);
  const [q, k, v, proj] = ["q", "k", "v", "proj"].map(
    (part) => new SliceableLinear(params, `${name}.attn.${part}`, maxDim, maxDim),
  ) as [SliceableLinear, SliceableLinear, SliceableLinear, SliceableLinear];
  const norm2 = new SliceableLayerNorm(params, `${name}.norm2`, maxDim);
  const fc1 = new SliceableLinear(params, `${name}.mlp.fc1`, maxDim, maxHidden);
  const fc2 = new SliceableLinear(params, `${name}.mlp.fc2`, maxHidden, maxDim);
  return {
    name,
    bind(choice) {
      const { dim, heads, mlpRatio } = choice;
      if (dim % heads !== 0) throw new Error(`${name}: dim ${dim} not divisible by ${heads} heads`);
      const headDim = dim / heads;
      const hidden = dim * mlpRatio;
      const square: LinearChoice = { inFeatures: dim, outFeatures: dim };
      const expand: LinearChoice = { inFeatures: dim, outFeatures: hidden };
      const contract: LinearChoice = { inFeatures: hidden, outFeatures: dim };
      const scale = 1 / Math.sqrt(headDim);
      const attention = (x: tf.Tensor2D): tf.Tensor2D => {
        const rows = x.shape[0];
        const sequences = rows / tokens;
        const split = (linear: SliceableLinear): tf.Tensor3D => {
          const part = tf.reshape(linear.apply(x, square), [sequences, tokens, heads, headDim]);
          return tf.reshape(tf.transpose(part, [0, 2, 1, 3]), [sequences * heads, tokens, headDim]);
        };
        const scores = tf.softmax(tf.mul(tf.matMul(split(q), split(k), false, true), scale));
        const attended = tf.reshape(tf.matMul(scores, split(v)), [
          sequences,
          heads,
          tokens,
          headDim,
        ]);
        const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [rows, dim]) as tf.Tensor2D;
        return proj.apply(merged, square);
      };
      return {
        apply(x) {
          const y = tf.add(x, attention(norm1.apply(x))) as tf.Tensor2D;
          const mlp = fc2.apply(gelu(fc1.apply(norm2.apply(y), expand)), contract);
          return tf.add(y, mlp) as tf.Tensor2D;
        },
        layers: () => [
          q.info(square, "hidden"),
          k.info(square, "hidden"),
          v.info(square, "hidden"),
          proj.info(square, "hidden"),
          fc1.info(expand, "hidden"),
          fc2.info(contract, "hidden"),
        ],
        regions: () => [
          ...norm1.regions(dim),
          ...[q, k, v, proj].flatMap((layer) => layer.regions(square)),
          ...norm2.regions(dim),
          ...fc1.regions(expand),
          ...fc2.regions(contract),
        ],
        exportTo(context, input) {
          const { builder } = context;
          const [sequences = 0] = builder.shapeOf(input);
          const linear = (x: string, layer: SliceableLinear, linearChoice: LinearChoice) =>
            exportLinear(context, {
              input: x,
              linear: layer,
              weight: layer.info(linearChoice, "hidden"),
            });
          const normed = exportLayerNorm(context, { input, norm: norm1, features: dim });
          const split = (layer: SliceableLinear, tag: string): string => {
            const projected = linear(normed, layer, square);
            const perHead = builder.op({
              type: "reshape",
              name: `${name}.attn.${tag}.split`,
              inputs: [projected],
              attrs: { shape: [sequences, tokens, heads, headDim] },
            });
            return builder.op({
              type: "transpose",
              name: `${name}.attn.${tag}.heads`,
              inputs: [perHead],
              attrs: { perm: [0, 2, 1, 3] },
            });
          };
          const attended = exportAttention(context, name, {
            q: split(q, "q"),
            k: split(k, "k"),
            v: split(v, "v"),
            scale,
            merged: [sequences, tokens, dim],
          });
          const y = builder.op({
            type: "add",
            name: `${name}.add1`,
            inputs: [input, linear(attended, proj, square)],
            attrs: { activation: "none" },
          });
          const normed2 = exportLayerNorm(context, { input: y, norm: norm2, features: dim });
          const activated = builder.op({
            type: "activation",
            name: `${name}.mlp.gelu`,
            inputs: [linear(normed2, fc1, expand)],
            attrs: { function: "gelu" },
          });
          return builder.op({
            type: "add",
            name: `${name}.add2`,
            inputs: [y, linear(activated, fc2, contract)],
            attrs: { activation: "none" },
          });
        },
      };
    },
  };
}

/** softmax(q kᵀ · scale) v over [sequences, heads, tokens, headDim], merged back to [sequences, tokens, dim]. */
function exportAttention(
  context: ExportContext,
  name: string,
  parts: { q: string; k: string; v: string; scale: number; merged: number[] },
): string {
  const { builder } = context;
  const scores = builder.op({
    type: "matmul",
    name: `${name}.attn.scores`,
    inputs: [parts.q, parts.k],
    attrs: { transposeB: true, alpha: parts.scale },
  });
  const probabilities = builder.op({
    type: "softmax",
    name: `${name}.attn.softmax`,
    inputs: [scores],
    attrs: { beta: 1 },
  });
  const perHead = builder.op({
    type: "matmul",
    name: `${name}.attn.context`,
    inputs: [probabilities, parts.v],
    attrs: { transposeB: false, alpha: 1 },
  });
  const tokensFirst = builder.op({
    type: "transpose",
    name: `${name}.attn.context.tokens`,
    inputs: [perHead],
    attrs: { perm: [0, 2, 1, 3] },
  });
  return builder.op({
    type: "reshape",
    name: `${name}.attn.context.merge`,
    inputs: [tokensFirst],
    attrs: { shape: parts.merged },
  });
}
