/** TinyFormer's own version: coordinators and workers must run the same one. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../project-paths.js";

let version: string | undefined;

export function readPackageVersion(): string {
  version ??= (
    JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }
  ).version;
  return version;
}
