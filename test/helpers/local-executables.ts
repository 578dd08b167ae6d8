/**
 * What the tests that start real local programs (nginx, redis-server,
 * Chromium) share: finding an executable, synchronously so a module can say
 * at load time whether its tests can run, and a free TCP port on 127.0.0.1.
 */
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first of `names` found in `dirs` (checked first: e.g. /usr/sbin, which
 * is not on every user's PATH) or on PATH; undefined when none is.
 */
export function findExecutable(
  names: readonly string[],
  dirs: readonly string[] = [],
): string | undefined {
  const path = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  for (const name of names)
    for (const dir of [...dirs, ...path]) if (isExecutable(join(dir, name))) return join(dir, name);
  return undefined;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
