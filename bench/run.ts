/**
 * Benchmark dispatcher: `npm run bench -- NAME [args...]` runs `bench/NAME.ts`.
 *
 * Every benchmark is a module exporting `main(args)`; it may print progress to
 * stderr and must print exactly one JSON object as the last line of stdout, so
 * scripts and CI can read results with `tail -n 1`.
 */
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

interface BenchmarkModule {
  main(args: string[]): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".js") && f !== "run.js" && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (name === undefined || !available.includes(name)) {
  process.stderr.write(
    `usage: npm run bench -- NAME [args...]\navailable benchmarks: ${available.join(", ")}\n`,
  );
  process.exit(2);
}
const benchmark = (await import(`./${name}.js`)) as BenchmarkModule;
await benchmark.main(args);
