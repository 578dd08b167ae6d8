/**
 * A worker thread of `predictInt8Classes` (int8-predictions.ts, which holds
 * all the logic so that it is part of the quantize stage's code identity):
 * predicts the chunks of images it is sent, one reply per chunk.
 */
import { parentPort, workerData } from "node:worker_threads";
import {
  type Int8WorkerReply,
  type Int8WorkerRequest,
  type Int8WorkerSetup,
  predictInt8Range,
} from "./int8-predictions.js";

const port = parentPort;
if (port === null) throw new Error("int8-worker.js runs as a worker thread");
const { model, set } = workerData as Int8WorkerSetup;
port.on("message", ({ start, end }: Int8WorkerRequest) => {
  const classes = new Int32Array(end - start);
  predictInt8Range(model, set, start, end, classes);
  const reply: Int8WorkerReply = { start, classes };
  port.postMessage(reply, [classes.buffer]);
});
