/** Loads and validates a board profile (schemas/board.schema.json). */
import { ConfigError } from "./diagnostic.js";
import { readYamlFile } from "./read-source.js";
import { validateAgainstSchema } from "./schema-validation.js";
import { SourceStack } from "./source-stack.js";
import type { BoardProfile } from "./types.js";

/** Undefined when the file cannot be read; throws ConfigError when it is invalid. */
export async function loadBoardProfile(file: string): Promise<BoardProfile | undefined> {
  const document = await readYamlFile(file);
  if (document === undefined) return undefined;
  if (document.diagnostics.length > 0) throw new ConfigError(document.diagnostics);
  const value = document.value ?? {};
  const problems = await validateAgainstSchema("board", value, new SourceStack([document]));
  if (problems.length > 0) throw new ConfigError(problems);
  return value as BoardProfile;
}
