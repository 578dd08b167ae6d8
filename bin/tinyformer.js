#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (`npm run build`).
import { runCli } from "../dist/src/cli/main.js";

// `tinyformer status | head`: a closed pipe is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await runCli(process.argv.slice(2));
