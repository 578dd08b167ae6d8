/**
 * `tinyformer init [dir]`: scaffolds a workspace that validates and builds as
 * it is: tinyformer.yaml, one small recipe (recipes/my-model.yaml), the chosen
 * board profile and a copy of the JSON Schemas the files' `$schema` lines
 * name. The recipe and workspace file are rendered from templates/init/; the
 * board profile and the schemas are copied from the package.
 *
 * The schemas are copied into the workspace (schemas/, as in the package's
 * own layout) rather than named by the installed package's absolute path: a
 * workspace is meant to be committed and cloned, and a path into one
 * machine's node_modules (or a global install under a Node version manager)
 * breaks on every other machine and after every reinstall. They are small
 * text files. The dataset, by contrast, is referenced where it is: the
 * CIFAR-10 subset shipped with the package is 9 MB of binary data that does
 * not belong in a user's repository.
 *
 * Nothing is overwritten unless `force` is set: a directory that is not
 * empty is refused, naming what it holds.
 */
import { constants, type Dirent } from "node:fs";
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { displayPath } from "../config/display-path.js";
import { WORKSPACE_FILE } from "../config/workspace-root.js";
import { CIFAR10_SOURCE_URL, cifar10SplitFiles } from "../datasets/cifar10-binary.js";
import { builtinBoardsDir, packageRoot, schemasDir, templatesDir } from "../project-paths.js";
import { DEFAULT_BOARD, INIT_DATASETS, type InitDataset, shippedBoards } from "./init-options.js";

export { DEFAULT_BOARD, INIT_DATASETS, type InitDataset, shippedBoards };
/** The recipe `init` writes, relative to the workspace root. */
export const INIT_RECIPE = "recipes/my-model.yaml";
/** The CIFAR-10 subset shipped with the package: the data when none is given. */
export const SHIPPED_CIFAR10_SUBSET = join(packageRoot, "data", "cifar10-subset");

export interface InitWorkspaceOptions {
  /** The workspace directory, relative to `cwd`; created when missing. @default "." */
  dir?: string;
  /** @default process.cwd() */
  cwd?: string;
  /** @default "cifar10" */
  dataset?: InitDataset;
  /**
   * The dataset, relative to `cwd`: a CIFAR-10 binary directory, or for
   * `image-folder` a folder with one sub-folder of images per class.
   * @default the CIFAR-10 subset shipped with TinyFormer (cifar10 only)
   */
  data?: string;
  /** One of the shipped boards (`shippedBoards()`). @default DEFAULT_BOARD */
  board?: string;
  /** Write into a directory that is not empty, replacing files of the same names. */
  force?: boolean;
}

export interface InitFile {
  /** Relative to the workspace root, `/`-separated. */
  path: string;
  /** What the file is, in a few words. */
  description: string;
  /** It existed and was overwritten (only with `force`). */
  replaced: boolean;
}

export interface InitResult {
  /** The workspace root (absolute). */
  root: string;
  /** The files written, in the order written. */
  files: InitFile[];
  /** The recipe, relative to the root. */
  recipe: string;
  board: string;
  /** The dataset directory (absolute). */
  data: string;
  /** What to run next in the workspace. */
  nextCommands: { command: string; does: string }[];
}

/** A usage problem: bad option, missing data, a directory that is not empty. */
export class InitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InitError";
  }
}

/** The schemas the generated files' `$schema` lines name, copied into `schemas/`. */
const SCHEMAS = [
  { name: "workspace", of: "tinyformer.yaml" },
  { name: "recipe", of: "recipes" },
  { name: "board", of: "board profiles" },
] as const;

interface PlannedFile {
  path: string;
  description: string;
  write(target: string, flag: "w" | "wx"): Promise<void>;
}

export async function initWorkspace(options: InitWorkspaceOptions = {}): Promise<InitResult> {
  const cwd = options.cwd ?? process.cwd();
  const root = resolve(cwd, options.dir ?? ".");
  const dataset = options.dataset ?? "cifar10";
  if (!INIT_DATASETS.includes(dataset)) {
    throw new InitError(
      `unknown dataset "${dataset}": choose ${INIT_DATASETS.map((d) => `"${d}"`).join(" or ")}`,
    );
  }
  const board = options.board ?? DEFAULT_BOARD;
  const boards = shippedBoards();
  if (!boards.includes(board)) {
    throw new InitError(
      `unknown board "${board}": the boards shipped with TinyFormer are ${boards.join(", ")}`,
    );
  }
  const data = await checkData(dataset, options.data, cwd);
  const boardFile = join(builtinBoardsDir, `${board}.yaml`);
  const boardText = await readFile(boardFile, "utf8");
  const templates = await loadTemplates();
  // Loaded here, not at the top: the CLI imports this module for its help text,
  // and commands answered from the configuration memo never load the YAML parser.
  const { parse: parseYaml } = await import("yaml");
  const yamlScalar = (value: string) => yamlValue(value, parseYaml);
  const view = {
    recipe: INIT_RECIPE,
    board,
    cifar10: dataset === "cifar10",
    shippedSubset: data.path === SHIPPED_CIFAR10_SUBSET,
    dataPath: yamlScalar(recipePath(root, data.path)),
    dataSummary: data.summary,
    description: yamlScalar(`Small fixed MobileViT-style classifier on ${data.title}`),
  };
  const text = (content: string) => (target: string, flag: "w" | "wx") =>
    writeFile(target, content, { flag });
  const copy = (source: string) => (target: string, flag: "w" | "wx") =>
    copyFile(source, target, flag === "wx" ? constants.COPYFILE_EXCL : 0);
  const planned: PlannedFile[] = [
    {
      path: WORKSPACE_FILE,
      description: "workspace settings: the default recipe, cache and output folders",
      write: text(templates.workspace(view)),
    },
    {
      path: INIT_RECIPE,
      description: `the recipe: a small fixed network trained on ${data.description}`,
      write: text(templates.recipe(view)),
    },
    {
      path: `boards/${board}.yaml`,
      description: `board profile: ${boardDescription(boardText) ?? board}`,
      write: text(boardText),
    },
    ...SCHEMAS.map(({ name, of }) => ({
      path: `schemas/${name}.schema.json`,
      description: `JSON Schema of ${of}, for completion in your editor`,
      write: copy(join(schemasDir, `${name}.schema.json`)),
    })),
  ];

  const existing = await existingEntries(root);
  if (existing.length > 0 && options.force !== true) {
    const clashes: string[] = [];
    for (const { path } of planned) {
      if (await exists(join(root, ...path.split("/")))) clashes.push(path);
    }
    const replacing =
      clashes.length > 0
        ? `replacing ${listNames(clashes)} and leaving the rest as it is`
        : "next to what is there (no file has the same name as one it writes)";
    throw new InitError(
      `${displayPath(root)} is not empty: it holds ${listNames(existing)}. tinyformer init ` +
        `writes into an empty or new directory; with --force it writes here, ${replacing}.`,
    );
  }

  const files: InitFile[] = [];
  for (const file of planned) {
    const target = join(root, ...file.path.split("/"));
    const replaced = await exists(target);
    await mkdir(dirname(target), { recursive: true });
    try {
      await file.write(target, options.force === true ? "w" : "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new InitError(
          `${displayPath(target)} appeared while the workspace was written; not overwritten`,
        );
      }
      throw error;
    }
    files.push({ path: file.path, description: file.description, replaced });
  }
  return {
    root,
    files,
    recipe: INIT_RECIPE,
    board,
    data: data.path,
    nextCommands: [
      { command: "tinyformer validate", does: "check the configuration files" },
      {
        command: "tinyformer build",
        does: "train, prune, quantize, generate the C engine and verify it",
      },
    ],
  };
}

/**
 * What `tinyformer init` prints: the files written and the next commands,
 * with a `cd` first when the user, in `userDir`, is not in the workspace.
 */
export function renderInitSummary(result: InitResult, userDir = process.cwd()): string[] {
  const fromUser = relative(userDir, result.root);
  const shown = fromUser === "" ? "." : fromUser.startsWith("..") ? result.root : fromUser;
  const width = Math.max(...result.files.map((file) => file.path.length));
  const commandWidth = Math.max(...result.nextCommands.map((next) => next.command.length));
  return [
    `created a TinyFormer workspace in ${shown}`,
    ...result.files.map(
      (file) =>
        `  ${file.replaced ? "replaced" : "wrote   "} ${file.path.padEnd(width)}  ${file.description}`,
    ),
    "next:",
    ...(fromUser === "" ? [] : [`  cd ${shellWord(shown)}`]),
    ...result.nextCommands.map((next) => `  ${next.command.padEnd(commandWidth)}  # ${next.does}`),
  ];
}

interface DataChoice {
  /** Absolute. */
  path: string;
  /** For the printed summary: "the CIFAR-10 subset shipped with TinyFormer". */
  description: string;
  /** For the recipe's comment on an image folder: "3 classes, 120 images". */
  summary: string;
  /** For the recipe's description: "CIFAR-10", "the images in flowers". */
  title: string;
}

async function checkData(
  dataset: InitDataset,
  data: string | undefined,
  cwd: string,
): Promise<DataChoice> {
  if (data === undefined) {
    if (dataset === "image-folder") {
      throw new InitError(
        "--dataset image-folder needs --data PATH: a folder with one sub-folder of .png or .jpg images per class",
      );
    }
    return {
      path: SHIPPED_CIFAR10_SUBSET,
      description: "the CIFAR-10 subset shipped with TinyFormer",
      summary: "CIFAR-10",
      title: "CIFAR-10",
    };
  }
  const path = resolve(cwd, data);
  const entries = await readdir(path, { withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      throw new InitError(
        error.code === "ENOENT"
          ? `--data ${data}: no such directory (${path})`
          : error.code === "ENOTDIR"
            ? `--data ${data}: not a directory`
            : `--data ${data}: cannot read it (${error.message})`,
      );
    },
  );
  if (dataset === "cifar10") {
    const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
    const train = cifar10SplitFiles.train.filter((name) => names.has(name));
    const missing = [
      ...(train.length === 0 ? [`${cifar10SplitFiles.train.join(", ")} (any of them)`] : []),
      ...cifar10SplitFiles.test.filter((name) => !names.has(name)),
    ];
    if (missing.length > 0) {
      throw new InitError(
        `--data ${data}: not a CIFAR-10 binary directory: no ${missing.join(" and no ")}. ` +
          `Download ${CIFAR10_SOURCE_URL} and unpack it, then pass its cifar-10-batches-bin/ folder ` +
          "(or leave --data out to use the subset shipped with TinyFormer).",
      );
    }
    return {
      path,
      description: `CIFAR-10 in ${data}`,
      summary: "CIFAR-10",
      title: "CIFAR-10",
    };
  }
  const classes = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  if (classes.length === 0) {
    throw new InitError(
      `--data ${data}: no class sub-folders; an image folder holds one sub-folder per class, each with .png or .jpg images`,
    );
  }
  let images = 0;
  for (const name of classes) {
    images += (await readdir(join(path, name))).filter((file) =>
      [".png", ".jpg", ".jpeg"].includes(extname(file).toLowerCase()),
    ).length;
  }
  if (images === 0) {
    throw new InitError(
      `--data ${data}: no .png or .jpg images in its ${classes.length} class sub-folder(s) (${listNames(classes.sort())})`,
    );
  }
  return {
    path,
    description: `the images in ${data} (${classes.length} classes, ${images} images)`,
    summary: `${classes.length} classes, ${images} images`,
    title: `the images in ${basename(path)}`,
  };
}

/** The dataset path as the recipe should hold it: relative inside the workspace, else absolute. */
function recipePath(root: string, path: string): string {
  const fromRoot = relative(root, path);
  const inside = fromRoot !== "" && !fromRoot.startsWith("..") && !isAbsolute(fromRoot);
  return (inside ? fromRoot : path).split(sep).join("/");
}

/** What is in `root` already, directories with a trailing `/`; empty when it does not exist. */
async function existingEntries(root: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    if (code === "ENOTDIR") throw new InitError(`${displayPath(root)} is a file, not a directory`);
    throw error;
  }
  return entries.map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name)).sort();
}

function listNames(names: readonly string[], shown = 8): string {
  const more = names.length - shown;
  return more > 0 ? `${names.slice(0, shown).join(", ")} and ${more} more` : names.join(", ");
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function boardDescription(text: string): string | undefined {
  const match = /^description:\s*(.+?)\s*$/m.exec(text);
  return match?.[1];
}

/**
 * A string as a YAML value: plain when it reads back as the same string
 * (not `true`, `1.5` or `null`, no `: ` or ` #`), else double-quoted (JSON).
 */
function yamlValue(value: string, parseYaml: (text: string) => unknown): string {
  const plain = /^[A-Za-z0-9_./][A-Za-z0-9_./ ,()-]*$/.test(value) && !value.endsWith(" ");
  return plain && parseYaml(value) === value ? value : JSON.stringify(value);
}

/** A path as one word for a POSIX shell. */
function shellWord(path: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

type Template = (view: object) => string;

async function loadTemplates(): Promise<{ workspace: Template; recipe: Template }> {
  const { default: Handlebars } = await import("handlebars");
  const hb = Handlebars.create();
  const dir = join(templatesDir, "init");
  const compile = async (file: string): Promise<Template> =>
    hb.compile(await readFile(join(dir, file), "utf8"), { noEscape: true, strict: true });
  return {
    workspace: await compile("tinyformer.yaml.hbs"),
    recipe: await compile("recipe.yaml.hbs"),
  };
}
