import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import {
  createTrainingBackend,
  getActiveBackendIdentity,
  parseBackendChoice,
} from "../../src/training/backend.js";

const backendModule = fileURLToPath(new URL("../../src/training/backend.js", import.meta.url));

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
}

describe("training backend selection", () => {
  test("importing the module does not load TensorFlow.js", async () => {
    const script =
      `await import(${JSON.stringify(pathToFileURL(backendModule).href)});` +
      "console.log(JSON.stringify(globalThis._tfGlobals === undefined));";
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--input-type=module",
      "-e",
      script,
    ]);
    assert.equal(stdout.trim(), "true");
  });

  test("parses the four choices and nothing else", () => {
    for (const choice of ["auto", "tfjs-node", "wasm", "cpu"]) {
      assert.equal(parseBackendChoice(choice), choice);
    }
    assert.equal(parseBackendChoice("webgl"), undefined);
  });

  test("forced cpu reports its version and warns nobody", async () => {
    const warnings: string[] = [];
    const backend = await createTrainingBackend({
      backend: "cpu",
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(backend.name, "cpu");
    assert.equal(backend.version, "cpu@4.22.0");
    assert.equal(backend.tf.getBackend(), "cpu");
    assert.deepEqual(warnings, []);
    assert.deepEqual(getActiveBackendIdentity(), { name: "cpu", version: "cpu@4.22.0" });
  });

  test("forced wasm registers gradient kernels and names simd in its version", async () => {
    const backend = await createTrainingBackend({ backend: "wasm" });
    assert.equal(backend.name, "wasm");
    assert.match(backend.version, /^wasm@4\.22\.0(\+simd)?(\+threads\d+)?\+grad\d+$/);
    assert.equal(backend.tf.getBackend(), "wasm");
    assert.notEqual(backend.tf.getKernel("Conv2DBackpropFilter", "wasm"), undefined);
  });

  test("auto picks tfjs-node when installed, wasm otherwise", async () => {
    const warnings: string[] = [];
    const backend = await createTrainingBackend({
      backend: "auto",
      onWarning: (m) => warnings.push(m),
    });
    if (tfjsNodeInstalled()) {
      assert.equal(backend.name, "tfjs-node");
    } else {
      // The cached wasm backend from the previous test is reused; a fresh
      // process would record why tfjs-node was skipped.
      assert.equal(backend.name, "wasm");
    }
    assert.deepEqual(warnings, []);
  });

  test("auto in a fresh process records why tfjs-node was skipped", {
    skip: tfjsNodeInstalled() ? "tfjs-node is installed here" : false,
  }, async () => {
    const script =
      `const m = await import(${JSON.stringify(pathToFileURL(backendModule).href)});` +
      "const b = await m.createTrainingBackend({});" +
      "console.log(JSON.stringify({ name: b.name, reasons: b.fallbackReasons }));";
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--input-type=module",
      "-e",
      script,
    ]);
    const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
      name: string;
      reasons: string[];
    };
    assert.equal(result.name, "wasm");
    assert.match(result.reasons[0] ?? "", /^tfjs-node: /);
  });

  test("auto falling back to the CPU backend warns loudly", async () => {
    const script =
      `const m = await import(${JSON.stringify(pathToFileURL(backendModule).href)});` +
      "const warnings = [];" +
      'const b = await m.createTrainingBackend({ autoOrder: ["cpu"], onWarning: (w) => warnings.push(w) });' +
      "console.log(JSON.stringify({ name: b.name, warnings }));";
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--input-type=module",
      "-e",
      script,
    ]);
    const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
      name: string;
      warnings: string[];
    };
    assert.equal(result.name, "cpu");
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0] ?? "", /^WARNING: training on the pure-JavaScript CPU backend/);
  });

  test("forcing an unavailable tfjs-node is an error that names it", {
    skip: tfjsNodeInstalled() ? "tfjs-node is installed here" : false,
  }, async () => {
    await assert.rejects(createTrainingBackend({ backend: "tfjs-node" }), /backend tfjs-node: /);
  });
});
