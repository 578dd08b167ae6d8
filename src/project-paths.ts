/**
 * Where the files shipped with TinyFormer live (schemas, C templates, board
 * profiles), found from this module's location so the CLI works from any
 * working directory, compiled (dist/src) or not.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find TinyFormer's package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
export const schemasDir = join(packageRoot, "schemas");
export const templatesDir = join(packageRoot, "templates");
export const builtinBoardsDir = join(packageRoot, "boards");
