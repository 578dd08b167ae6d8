/** `node --import ./forbid-imports.js …`: installs forbid-imports-hooks for the whole process. */
import { register } from "node:module";

register("./forbid-imports-hooks.js", import.meta.url);
