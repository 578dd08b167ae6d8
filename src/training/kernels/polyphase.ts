/**
 * Polyphase form of a strided transposed convolution (the input gradient of
 * a stride-s convolution). Output pixel h = p*s + r of phase r only ever
 * meets the filter taps kh = (r + padTop) mod s + s*m, so all s*s phases are
 * one stride-1 convolution of dy with a small "polyphase" filter holding
 * s*s*Ci output channels, whose phases are then interleaved into the
 * full-resolution result (what DepthToSpace does). Unlike convolving the zero-dilated dy, no
 * multiply ever meets an inserted zero: about s^2 times less work.
 */
import * as tf from "@tensorflow/tfjs-core";
import { cropNegativePadding } from "./kernel-support.js";

/** Where phase r's taps sit along one axis. */
interface AxisPlan {
  /** Smallest dy offset d any phase reads (dy index = p + d). */
  readonly minOffset: number;
  /** Window length of the polyphase filter along this axis. */
  readonly window: number;
  /** Phases (output rows per phase) needed to cover the input extent. */
  readonly phases: number;
  /** For phase r and window position j: the original tap, or -1 for none. */
  tap(r: number, j: number): number;
}

function planAxis(filter: number, stride: number, pad: number, inSize: number): AxisPlan {
  const first = (r: number) => (r + pad) % stride;
  const shift = (r: number) => Math.floor((r + pad) / stride);
  let minOffset = Number.POSITIVE_INFINITY;
  let maxOffset = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < stride; r++) {
    const taps = Math.ceil((filter - first(r)) / stride);
    if (taps <= 0) continue;
    minOffset = Math.min(minOffset, shift(r) - taps + 1);
    maxOffset = Math.max(maxOffset, shift(r));
  }
  return {
    minOffset,
    window: maxOffset - minOffset + 1,
    phases: Math.ceil(inSize / stride),
    tap(r: number, j: number): number {
      const k = first(r) + stride * (shift(r) - (j + minOffset));
      return k >= 0 && k < filter ? k : -1;
    },
  };
}

/**
 * dx of `conv2d(x, filter, [s, s], pad)` given dy, for a square stride s > 1.
 * `filterValues` is the [KH, KW, Ci, Co] filter read to the host: it is
 * small, and rearranging it there is simpler than with tensor ops.
 */
export function polyphaseInputGradient(
  dy: tf.Tensor4D,
  filterValues: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  stride: number,
): tf.Tensor4D {
  const { filterHeight, filterWidth, inChannels, outChannels, padInfo } = info;
  const rows = planAxis(filterHeight, stride, padInfo.top, info.inHeight);
  const cols = planAxis(filterWidth, stride, padInfo.left, info.inWidth);
  const phaseChannels = stride * stride * inChannels;
  const poly = new Float32Array(rows.window * cols.window * outChannels * phaseChannels);
  for (let r = 0; r < stride; r++) {
    for (let t = 0; t < stride; t++) {
      for (let jh = 0; jh < rows.window; jh++) {
        const kh = rows.tap(r, jh);
        if (kh < 0) continue;
        for (let jw = 0; jw < cols.window; jw++) {
          const kw = cols.tap(t, jw);
          if (kw < 0) continue;
          for (let ci = 0; ci < inChannels; ci++) {
            const source = ((kh * filterWidth + kw) * inChannels + ci) * outChannels;
            const channel = (r * stride + t) * inChannels + ci;
            for (let co = 0; co < outChannels; co++) {
              const target = ((jh * cols.window + jw) * outChannels + co) * phaseChannels + channel;
              poly[target] = filterValues[source + co] as number;
            }
          }
        }
      }
    }
  }
  const polyFilter = tf.tensor4d(poly, [rows.window, cols.window, outChannels, phaseChannels]);
  const { x: input, padding } = cropNegativePadding(
    dy,
    -rows.minOffset,
    rows.phases - 1 + rows.minOffset + rows.window - 1 - (info.outHeight - 1),
    -cols.minOffset,
    cols.phases - 1 + cols.minOffset + cols.window - 1 - (info.outWidth - 1),
  );
  const phased = tf.conv2d(input, polyFilter, 1, padding);
  const interleaved = interleavePhases(phased, stride, inChannels);
  const [n, h, w] = interleaved.shape;
  if (h === info.inHeight && w === info.inWidth) return interleaved;
  return tf.slice(interleaved, [0, 0, 0, 0], [n, info.inHeight, info.inWidth, inChannels]);
}

/**
 * DepthToSpace: [B, P, Q, (r*s + t)*C + c] -> [B, P*s + r, Q*s + t, c], as one
 * rank-4 transpose. The backend's own DepthToSpace is a JavaScript loop,
 * about 50x slower.
 */
export function interleavePhases(
  phased: tf.Tensor4D,
  stride: number,
  channels: number,
): tf.Tensor4D {
  const [n, p, q] = phased.shape;
  const grouped = tf.reshape(phased, [n * p, q, stride, stride * channels]);
  return tf.reshape(tf.transpose(grouped, [0, 2, 1, 3]), [n, p * stride, q * stride, channels]);
}
