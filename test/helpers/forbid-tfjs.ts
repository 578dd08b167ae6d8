/** `node --import ./forbid-tfjs.js …`: installs forbid-tfjs-hooks for the whole process. */
import { register } from "node:module";

register("./forbid-tfjs-hooks.js", import.meta.url);
