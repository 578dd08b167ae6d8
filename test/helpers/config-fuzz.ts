/**
 * Seeded mutations of real configuration files, and a classification of what
 * `tinyformer validate` made of each, for the fuzz corpus test and for
 * benchmarks. The mutations imitate what users and hostile files do to a
 * recipe: delete keys, give values of the wrong type or absurd size, add
 * unknown keys (`__proto__` among them), nest deeply, plant alias bombs,
 * truncate the text, repeat keys, indent with tabs, splice in binary
 * garbage. The same seed always gives the same corpus.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ValidationResult } from "../../src/api/validate.js";
import { renderDiagnostic, renderDiagnosticLine } from "../../src/config/diagnostic.js";
import { createSeededRandom, type SeededRandom } from "../../src/datasets/seeded-random.js";
import { shippedRecipesDirectory } from "../support/paths.js";
import { MINIMAL_RECIPE, SEARCH_RECIPE } from "./workspace.js";

export interface MutatedConfig {
  /** Which base and which mutations, for a failure message. */
  name: string;
  text: string;
}

export interface BaseConfig {
  name: string;
  text: string;
}

/** The shipped recipes and the tests' small recipes. */
export function baseConfigs(): BaseConfig[] {
  const shipped = readdirSync(shippedRecipesDirectory)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => ({
      name: file,
      text: readFileSync(join(shippedRecipesDirectory, file), "utf8"),
    }));
  return [
    ...shipped,
    { name: "minimal", text: MINIMAL_RECIPE },
    { name: "search", text: SEARCH_RECIPE },
  ];
}

/**
 * `count` mutated configurations; case i applies mutation kind i (round
 * robin, so every kind is represented), then up to two random others.
 */
export function mutatedConfigs(
  seed: number,
  count: number,
  bases: readonly BaseConfig[] = baseConfigs(),
): MutatedConfig[] {
  const random = createSeededRandom(seed);
  const kinds = Object.keys(MUTATIONS);
  return Array.from({ length: count }, (_, index) => {
    const base = bases[index % bases.length] as BaseConfig;
    let text = base.text;
    const notes: string[] = [];
    const extra = random.nextInt(3);
    for (let step = 0; step <= extra; step++) {
      const kind =
        step === 0 ? (kinds[index % kinds.length] as string) : (pick(random, kinds) as string);
      const mutated = (MUTATIONS[kind] as Mutation)(text, random);
      text = mutated.text;
      notes.push(`${kind}(${mutated.note})`);
    }
    return { name: `${base.name}#${index}: ${notes.join(" + ")}`, text };
  });
}

type Mutation = (text: string, random: SeededRandom) => { text: string; note: string };

function pick<T>(random: SeededRandom, items: readonly T[]): T {
  return items[random.nextInt(items.length)] as T;
}

/** Block keys (`key:` at the start of a line, maybe after `- `): line index and indentation. */
function keyLines(lines: readonly string[]): { index: number; indent: string; key: string }[] {
  return lines.flatMap((line, index) => {
    const match = /^(\s*(?:- )?)([A-Za-z_][\w]*):(\s|$)/.exec(line);
    return match
      ? [{ index, indent: (match[1] as string).replace("- ", "  "), key: match[2] as string }]
      : [];
  });
}

/** `key: value` scalar slots, block or flow: where the value starts and ends. */
function scalarSlots(text: string): { key: string; start: number; end: number }[] {
  const slots: { key: string; start: number; end: number }[] = [];
  const pattern = /([A-Za-z_]\w*): ([^,{}[\]\n#][^,{}[\]\n#]*?)(?=\s*(?:[,}\]]|#|\n|$))/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const start = match.index + (match[1] as string).length + 2;
    slots.push({ key: match[1] as string, start, end: start + (match[2] as string).length });
  }
  return slots;
}

/** Lines `from` and those below it indented deeper (a key and its block). */
function blockEnd(lines: readonly string[], from: number, indent: string): number {
  let end = from + 1;
  while (end < lines.length) {
    const line = lines[end] as string;
    if (line.trim() !== "" && !line.startsWith(`${indent} `)) break;
    end++;
  }
  return end;
}

function replaceSlot(text: string, random: SeededRandom, values: readonly string[]) {
  const slots = scalarSlots(text);
  if (slots.length === 0) return { text: `${text}\nseed: ${pick(random, values)}\n`, note: "seed" };
  const slot = pick(random, slots);
  const value = pick(random, values);
  return {
    text: text.slice(0, slot.start) + value + text.slice(slot.end),
    note: `${slot.key} → ${value.length > 24 ? `${value.slice(0, 20)}…` : value}`,
  };
}

const WRONG_TYPES = [
  "abc",
  "[1, 2]",
  "{ a: 1 }",
  "true",
  "null",
  '""',
  "~",
  "2001-12-14",
  "!!binary aGk=",
  "'3'",
  "!!str 3",
  "!custom 3",
  "[]",
  "{}",
];

const BAD_NUMBERS = [
  "1e9",
  "1e308",
  "1e400",
  "-1",
  "0",
  "-0",
  "99999999999999999999",
  ".nan",
  ".inf",
  "-.inf",
  "0x7fffffff",
  "1.5",
  "-2147483649",
  "4097",
  "65",
  "1e-320",
  "0o17",
  "+12",
];

const HOSTILE_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "__defineGetter__",
  "unknwon_key",
  "Seed",
  '"__proto__"',
  "''",
];

function nested(depth: number, style: number): string {
  if (style === 0) return `${"[".repeat(depth)}${"]".repeat(depth)}`;
  if (style === 1) return `${"{a: ".repeat(depth)}1${"}".repeat(depth)}`;
  return `${"[{b: ".repeat(depth)}1${"}]".repeat(depth)}`;
}

function aliasBomb(levels: number, width: number): string {
  const lines = [`lol0: &lol0 [${Array(width).fill('"lol"').join(", ")}]`];
  for (let level = 1; level < levels; level++) {
    lines.push(
      `lol${level}: &lol${level} [${Array(width)
        .fill(`*lol${level - 1}`)
        .join(", ")}]`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const MUTATIONS: Record<string, Mutation> = {
  deleteKey(text, random) {
    const lines = text.split("\n");
    const keys = keyLines(lines);
    if (keys.length === 0) return { text: "", note: "everything" };
    const key = pick(random, keys);
    lines.splice(key.index, blockEnd(lines, key.index, key.indent) - key.index);
    return { text: lines.join("\n"), note: key.key };
  },
  wrongType: (text, random) => replaceSlot(text, random, WRONG_TYPES),
  badNumber: (text, random) => replaceSlot(text, random, BAD_NUMBERS),
  unknownKey(text, random) {
    const lines = text.split("\n");
    const keys = keyLines(lines);
    const name = pick(random, HOSTILE_KEYS);
    const value = pick(random, [
      "1",
      "{ polluted: 1 }",
      "[x]",
      "null",
      "{ constructor: { prototype: 1 } }",
    ]);
    if (keys.length === 0 || random.next() < 0.3) {
      return { text: `${name}: ${value}\n${text}`, note: `${name} at the top` };
    }
    const key = pick(random, keys);
    lines.splice(key.index, 0, `${key.indent}${name}: ${value}`);
    return { text: lines.join("\n"), note: `${name} beside ${key.key}` };
  },
  deepNesting(text, random) {
    if (random.next() < 0.3) {
      // One space per level keeps the text small; 2100 levels used to overflow the parser.
      const levels = pick(random, [64, 65, 300, 2100]);
      const block = Array.from({ length: levels }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n");
      return { text: `${block} 1\n${text}`, note: `${levels} block maps` };
    }
    const depth = pick(random, [63, 64, 65, 100, 1000, 5000]);
    return replaceSlot(text, random, [nested(depth, random.nextInt(3))]);
  },
  aliasBomb(text, random) {
    const levels = 4 + random.nextInt(7);
    const width = 4 + random.nextInt(7);
    const bomb = aliasBomb(levels, width);
    const use = `*lol${levels - 1}`;
    const slots = scalarSlots(text);
    if (slots.length === 0 || random.next() < 0.3) {
      return { text: bomb + text, note: `${levels}x${width} at the top` };
    }
    const slot = pick(random, slots);
    return {
      text: bomb + text.slice(0, slot.start) + use + text.slice(slot.end),
      note: `${levels}x${width} used at ${slot.key}`,
    };
  },
  aliasMisc(text, random) {
    const variants = [
      "seed: *nowhere\n",
      "loop: &loop [1, *loop]\n",
      "a: &k seed\n*k : 3\n",
      "? [a, b]\n: c\n",
      "anchor: &s { block: mbv2, channels: 8 }\n",
      "x: &x 1\ny: *x\n",
    ];
    const variant = pick(random, variants);
    return { text: text + variant, note: variant.split("\n")[0] as string };
  },
  truncate(text, random) {
    const at = random.nextInt(Math.max(1, text.length));
    return { text: text.slice(0, at), note: `at ${at}` };
  },
  duplicateKey(text, random) {
    const lines = text.split("\n");
    const keys = keyLines(lines);
    if (keys.length === 0) return { text: `${text}\nseed: 1\nseed: 2\n`, note: "seed" };
    const key = pick(random, keys);
    const block = lines.slice(key.index, blockEnd(lines, key.index, key.indent));
    lines.splice(key.index, 0, ...block);
    return { text: lines.join("\n"), note: key.key };
  },
  tabs(text, random) {
    const lines = text.split("\n");
    const index = random.nextInt(lines.length);
    const line = lines[index] as string;
    lines[index] = random.next() < 0.5 ? line.replace(/^ +/, "\t") : line.replace(": ", ":\t");
    return { text: lines.join("\n"), note: `line ${index + 1}` };
  },
  garbage(text, random) {
    const length = 1 + random.nextInt(40);
    const specials = ["\u0000", "\uFEFF", "\uD800", "\uFFFE", "\u2028", "\r", "\u001b", "\uFFFD"];
    let junk = "";
    for (let i = 0; i < length; i++) {
      junk +=
        random.next() < 0.2 ? pick(random, specials) : String.fromCharCode(random.nextInt(256));
    }
    const at = random.nextInt(text.length + 1);
    return { text: text.slice(0, at) + junk + text.slice(at), note: `${length} chars at ${at}` };
  },
  wholeFile(text, random) {
    const variants: [string, string][] = [
      ["empty", ""],
      ["document marker", "---\n"],
      ["two documents", `${text}\n---\nseed: 2\n`],
      ["a list", "[1, 2]\n"],
      ["a string", "just a string\n"],
      ["a number", "42\n"],
      ["YAML 1.1", `%YAML 1.1\n---\n${text}`],
      ["unknown directive", `%BOGUS x\n---\n${text}`],
      ["CRLF", text.replaceAll("\n", "\r\n")],
      ["CR only", text.replaceAll("\n", "\r")],
      ["BOM", `\uFEFF${text}`],
    ];
    const [note, replaced] = pick(random, variants);
    return { text: replaced, note };
  },
  references(text, random) {
    const variants = [
      "extends: missing.yaml",
      "extends: fuzz.yaml",
      'extends: ""',
      "extends: [a]",
      "board: nowhere",
      "board: recipes/fuzz.yaml",
      "board: tinyformer.yaml",
      "board: ../../..",
      "name: ../escape",
    ];
    const line = pick(random, variants);
    const key = line.split(":")[0] as string;
    const without = text
      .split("\n")
      .filter((l) => !l.startsWith(`${key}:`))
      .join("\n");
    return { text: `${line}\n${without}`, note: line };
  },
};

export type OutcomeKind = "accepted" | "positioned-rejection" | "unpositioned-rejection" | "crash";

export interface Outcome {
  kind: OutcomeKind;
  /** What made it so: the offending message for the last two kinds. */
  detail: string;
}

/** Engine errors that reached a user as if they were configuration problems. */
const INTERNAL_ERROR =
  /Maximum call stack|Excessive alias|Invalid regular expression|is not a function|Cannot read propert|Cannot set propert|is not iterable|undefined is not|(Type|Reference|Range|Syntax)Error/;

/** `path:line:col: message` with a real path, line and column. */
const LOCATED = /^[^\n]+:\d+:\d+: \S/;

/**
 * What `validateFiles` (the API behind `tinyformer validate`) made of a
 * file: `{ result }` when it returned, `{ error }` when it threw.
 */
export function classifyValidation(
  outcome: { result: ValidationResult } | { error: unknown },
): Outcome {
  if ("error" in outcome) {
    const error = outcome.error;
    return {
      kind: "crash",
      detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  const { diagnostics, unreadable } = outcome.result;
  if (unreadable.length > 0) {
    return { kind: "unpositioned-rejection", detail: `${unreadable[0]}: cannot read file` };
  }
  const [first] = diagnostics;
  if (first === undefined) return { kind: "accepted", detail: "" };
  for (const diagnostic of diagnostics) {
    let line: string;
    try {
      line = renderDiagnosticLine(diagnostic);
      renderDiagnostic(diagnostic);
    } catch (error) {
      return { kind: "crash", detail: `rendering a diagnostic threw: ${String(error)}` };
    }
    if (INTERNAL_ERROR.test(diagnostic.message)) return { kind: "crash", detail: line };
    const inside =
      Number.isInteger(diagnostic.offset) &&
      diagnostic.offset >= 0 &&
      diagnostic.offset <= diagnostic.source.text.length;
    if (diagnostic.source.name === "" || !inside || !LOCATED.test(line)) {
      return { kind: "unpositioned-rejection", detail: line };
    }
  }
  return { kind: "positioned-rejection", detail: renderDiagnosticLine(first) };
}

/**
 * What the command line printed: exit code and one stderr entry per
 * diagnostic (location line first), the last the problem count. Exit 1, an
 * `error:` line or a stack trace is a crash.
 */
export function classifyCliRun(run: { code: number; err: readonly string[] }): Outcome {
  const printed = run.err.join("\n");
  if (run.code === 0) return { kind: "accepted", detail: "" };
  if (run.code !== 2 || /^error:|^\s+at /m.test(printed)) return { kind: "crash", detail: printed };
  const entries = run.err.filter((entry) => !/^\d+ problem\(s\) in \d+ file\(s\)$/.test(entry));
  for (const entry of entries) {
    const first = entry.split("\n")[0] as string;
    if (INTERNAL_ERROR.test(first)) return { kind: "crash", detail: first };
    if (!LOCATED.test(first)) return { kind: "unpositioned-rejection", detail: first };
  }
  return entries.length === 0
    ? { kind: "unpositioned-rejection", detail: printed }
    : { kind: "positioned-rejection", detail: (entries[0] as string).split("\n")[0] as string };
}
