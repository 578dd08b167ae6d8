/**
 * The entry of a data-parallel training worker thread (replica-server.ts does
 * the work). The trainer starts it by URL, which the stages' code identity
 * cannot follow: trainer.ts imports replica-server.ts so that it counts.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ReplicaSetup } from "./protocol.js";
import { serveReplica } from "./replica-server.js";

if (parentPort === null) throw new Error("worker-main.js runs as a worker thread");
await serveReplica(parentPort, workerData as ReplicaSetup);
