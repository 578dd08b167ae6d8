/** Loads and validates a board profile (schemas/board.schema.json). */
import { ConfigError, type Diagnostic } from "./diagnostic.js";
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
  const sources = new SourceStack([document]);
  const problems = await validateAgainstSchema("board", value, sources);
  if (problems.length > 0) throw new ConfigError(problems);
  const board = value as BoardProfile;
  const split = splitDriverFlags(board, sources);
  if (split.length > 0) throw new ConfigError(split);
  return board;
}

/**
 * A YAML flow list splits `[-Wl,--gc-sections]` at the comma into `-Wl` and
 * `--gc-sections`, which gcc then rejects with a puzzling message; say so
 * here, at the flag.
 */
function splitDriverFlags(board: BoardProfile, sources: SourceStack): Diagnostic[] {
  const lists = { cflags: board.compiler.cflags, ldflags: board.compiler.ldflags };
  return Object.entries(lists).flatMap(([list, flags]) =>
    flags.flatMap((flag, index) => {
      if (!/^-W[alp],?$/.test(flag)) return [];
      return [
        sources.diagnostic(
          `/compiler/${list}/${index}`,
          `compiler.${list}[${index}]: "${flag}" alone: YAML split a flag at its comma; quote it, e.g. ["${flag.replace(/,$/, "")},--gc-sections"]`,
        ),
      ];
    }),
  );
}
