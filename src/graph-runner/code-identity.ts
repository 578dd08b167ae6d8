/**
 * A stage's identity is the code it runs, not a version string someone has
 * to remember to bump: the digest of every module its implementation can
 * load (static imports and dynamic `import("literal")`, followed
 * transitively) plus the name and version of each package those modules
 * import. Edit any of them and the stage's key changes.
 *
 * Files are named relative to the stage's own module, so two clones of the
 * same code in different places agree. The graph is walked once per process
 * (the code a process runs cannot change under it) and files shared by many
 * stages are read once; across processes a memo keyed by the stat of every
 * file the walk read skips the walk (a no-op build stats, it does not read).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { init, parse } from "es-module-lexer";
import { writeFileAtomic } from "./atomic-write.js";
import { canonicalJson } from "./canonical-json.js";
import { type ContentDigest, digestBytes, digestText } from "./digest.js";

/** What a code digest covers, for `why` and tests. */
export interface CodeGraph {
  /** Module path relative to the entry module's directory → digest of its bytes. */
  modules: Record<string, ContentDigest>;
  /** Package name → version, for every bare import. */
  packages: Record<string, string>;
}

/** A walk's result and the absolute paths of the files it read (modules, package manifests). */
export interface CodeWalk extends CodeGraph {
  files: string[];
}

const digests = new Map<string, Promise<ContentDigest>>();
type ModuleCache = Map<string, Promise<{ digest: ContentDigest; imports: string[] }>>;
const processModuleCache: ModuleCache = new Map();

/**
 * Digest of the module graph reachable from `entry` (a `file:` URL or path).
 * Memoised per process, and across processes through `memo` when given.
 */
export function codeDigest(entry: string, memo?: CodeIdentityMemo): Promise<ContentDigest> {
  const path = entry.startsWith("file:") ? fileURLToPath(entry) : resolve(entry);
  let pending = digests.get(path);
  if (pending === undefined) {
    const known = memo?.lookup(path);
    pending =
      known !== undefined
        ? Promise.resolve(known)
        : walkModuleGraph(path).then((walk) => {
            const digest = digestOfGraph(walk);
            memo?.remember(path, digest, walk.files);
            return digest;
          });
    digests.set(path, pending);
  }
  return pending;
}

export function digestOfGraph(graph: CodeGraph): ContentDigest {
  return digestText(canonicalJson({ modules: graph.modules, packages: graph.packages }));
}

interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

interface MemoRecord {
  digest: ContentDigest;
  hashedAtMs: number;
  files: Record<string, FileStat>;
}

/** As in the stat memo: a file modified this close to its reading is read again next time. */
const RACY_MARGIN_MS = 2000;
const CODE_MEMO_VERSION = 1;

/** Code digests by entry module, valid while every file the walk read has the same stat. */
export class CodeIdentityMemo {
  readonly #file: string;
  readonly #records: Map<string, MemoRecord>;
  #dirty = false;

  private constructor(file: string, records: Map<string, MemoRecord>) {
    this.#file = file;
    this.#records = records;
  }

  static async load(file: string): Promise<CodeIdentityMemo> {
    try {
      const parsed = JSON.parse(await readFile(file, "utf8")) as {
        version?: number;
        records?: Record<string, MemoRecord>;
      };
      if (parsed.version === CODE_MEMO_VERSION && parsed.records) {
        return new CodeIdentityMemo(file, new Map(Object.entries(parsed.records)));
      }
    } catch {
      // Absent or corrupt: it only saves reading files.
    }
    return new CodeIdentityMemo(file, new Map());
  }

  lookup(entry: string): ContentDigest | undefined {
    const record = this.#records.get(entry);
    if (record === undefined) return undefined;
    for (const [path, known] of Object.entries(record.files)) {
      const now = statOrUndefined(path);
      if (
        now === undefined ||
        now.size !== known.size ||
        now.mtimeMs !== known.mtimeMs ||
        now.ctimeMs !== known.ctimeMs ||
        now.ino !== known.ino ||
        record.hashedAtMs - known.mtimeMs <= RACY_MARGIN_MS
      ) {
        return undefined;
      }
    }
    return record.digest;
  }

  remember(entry: string, digest: ContentDigest, files: readonly string[]): void {
    const hashedAtMs = Date.now();
    const stats: Record<string, FileStat> = {};
    for (const path of files) {
      const info = statOrUndefined(path);
      if (info === undefined) return; // gone while walking: do not memoise
      stats[path] = info;
    }
    this.#records.set(entry, { digest, hashedAtMs, files: stats });
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    await writeFileAtomic(
      this.#file,
      JSON.stringify({ version: CODE_MEMO_VERSION, records: Object.fromEntries(this.#records) }),
    );
    this.#dirty = false;
  }
}

function statOrUndefined(path: string): FileStat | undefined {
  try {
    const { size, mtimeMs, ctimeMs, ino } = statSync(path);
    return { size, mtimeMs, ctimeMs, ino };
  } catch {
    return undefined;
  }
}

/** `cache` is the process-wide one unless a caller (a test editing files) brings its own. */
export async function walkModuleGraph(
  entryPath: string,
  cache: ModuleCache = processModuleCache,
): Promise<CodeWalk> {
  await init;
  const base = dirname(entryPath);
  const modules: Record<string, ContentDigest> = {};
  const packages: Record<string, string> = {};
  const files: string[] = [];
  const seen = new Set<string>([entryPath]);
  const queue = [entryPath];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    const { digest, imports } = await readModule(file, cache);
    files.push(file);
    modules[relative(base, file).split(sep).join("/")] = digest;
    for (const specifier of imports) {
      if (specifier.startsWith(".") || specifier.startsWith("/")) {
        const target = resolve(dirname(file), specifier);
        if (!seen.has(target)) {
          seen.add(target);
          queue.push(target);
        }
      } else if (!isBuiltin(specifier)) {
        const name = packageName(specifier);
        if (packages[name] === undefined) {
          const found = packageManifest(name, dirname(file));
          packages[name] = found.version;
          if (found.path !== undefined) files.push(found.path);
        }
      }
    }
  }
  return { modules: sortKeys(modules), packages: sortKeys(packages), files };
}

function readModule(
  file: string,
  cache: ModuleCache,
): Promise<{ digest: ContentDigest; imports: string[] }> {
  let pending = cache.get(file);
  if (pending === undefined) {
    pending = readFile(file).then((bytes) => {
      const [imports] = parse(bytes.toString("utf8"), file);
      return {
        digest: digestBytes(bytes),
        // A template specifier (`./validators/${name}.js`) comes as a glob
        // and stands for every file it matches. A fully computed one
        // (`import(name)`) cannot be followed; what it loads must be declared
        // another way (a tool identity, an input file).
        imports: imports.flatMap((item) => {
          if (typeof item.specifier !== "string") return [];
          return "glob" in item && item.glob
            ? expandGlob(dirname(file), item.specifier)
            : [item.specifier];
        }),
      };
    });
    cache.set(file, pending);
  }
  return pending;
}

/** Relative specifiers matching a one-directory glob such as `./validators/*.js`. */
function expandGlob(from: string, pattern: string): string[] {
  const slash = pattern.lastIndexOf("/");
  if (slash < 0 || !pattern.startsWith(".")) return [];
  const dir = pattern.slice(0, slash);
  const escaped = pattern
    .slice(slash + 1)
    .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", "[^/]*");
  const matcher = new RegExp(`^${escaped}$`);
  try {
    return readdirSync(join(from, dir))
      .filter((name) => matcher.test(name))
      .sort()
      .map((name) => `${dir}/${name}`);
  } catch {
    return [];
  }
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

/** The version in the nearest `node_modules/<name>/package.json` above `from`, and that file. */
function packageManifest(name: string, from: string): { version: string; path?: string } {
  for (let dir = from; ; dir = dirname(dir)) {
    const path = join(dir, "node_modules", name, "package.json");
    try {
      const manifest = JSON.parse(readFileSync(path, "utf8")) as { version?: string };
      return { version: manifest.version ?? "unversioned", path };
    } catch {
      if (dirname(dir) === dir) return { version: "not installed" };
    }
  }
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}
