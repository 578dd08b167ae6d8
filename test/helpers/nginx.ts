/**
 * A real nginx serving the repository's remote-cache configuration
 * (deploy/nginx-remote-cache.conf) on 127.0.0.1, for the remote cache tests
 * and benchmark. Two writers: `ci` may write both namespaces, `pr` only `pr`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/project-paths.js";
import { findExecutable, freePort } from "./local-executables.js";

export const NGINX_CONFIG = join(packageRoot, "deploy", "nginx-remote-cache.conf");

export function findNginx(): string | undefined {
  return findExecutable(["nginx"], ["/usr/sbin", "/usr/bin"]);
}

/** Why the nginx tests cannot run here, or undefined when they can. */
export const needsNginx: string | false =
  findNginx() === undefined
    ? "nginx is not installed (scripts/setup.sh installs it): the remote cache tests did not run"
    : false;

export interface NginxServer {
  /** Base URL of the cache: `http://127.0.0.1:PORT/cache`. */
  url: string;
  /** The served directory: `<root>/cache/<namespace>/{cas,ac}/…`. */
  root: string;
  credentials: { ci: string; pr: string };
  /** Requests so far, one `METHOD /path STATUS` line each. */
  requests(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startNginx(): Promise<NginxServer> {
  const nginx = findNginx();
  if (nginx === undefined) throw new Error("nginx is not installed");
  const prefix = await mkdtemp(join(tmpdir(), "tinyformer-nginx-"));
  const root = join(prefix, "www");
  await mkdir(join(root, "cache"), { recursive: true });
  const passwords = { ci: randomBytes(8).toString("hex"), pr: randomBytes(8).toString("hex") };
  await writeFile(join(prefix, "main.htpasswd"), `ci:${ssha(passwords.ci)}\n`);
  await writeFile(
    join(prefix, "pr.htpasswd"),
    `ci:${ssha(passwords.ci)}\npr:${ssha(passwords.pr)}\n`,
  );
  const port = await freePort();
  const template = await readFile(NGINX_CONFIG, "utf8");
  const config = template
    .replaceAll("@PREFIX@", prefix)
    .replaceAll("@ROOT@", root)
    .replaceAll("@PORT@", String(port))
    .replaceAll("@USER@", process.getuid?.() === 0 ? "user root;" : "")
    // One line per request, for tests that count uploads.
    .replace(
      /^\s*access_log .*$/m,
      `  log_format requests '$request_method $uri $status';\n  access_log ${prefix}/access.log requests;`,
    );
  const configFile = join(prefix, "nginx.conf");
  await writeFile(configFile, config);
  const child: ChildProcess = spawn(
    nginx,
    ["-p", prefix, "-e", join(prefix, "error.log"), "-c", configFile],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}/cache`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) {
      const log = await readFile(join(prefix, "error.log"), "utf8").catch(() => "");
      throw new Error(`nginx did not start: ${stderr}${log}`);
    }
    const ready = await fetch(`${url}/`).then(
      () => true,
      () => false,
    );
    if (ready) break;
    if (attempt > 100) throw new Error(`nginx did not answer on ${url}: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    root,
    credentials: { ci: `ci:${passwords.ci}`, pr: `pr:${passwords.pr}` },
    async requests() {
      const text = await readFile(join(prefix, "access.log"), "utf8").catch(() => "");
      return text.split("\n").filter((line) => line !== "");
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      await rm(prefix, { recursive: true, force: true });
    },
  };
}

/** RFC 2307 `{SSHA}`: base64(SHA-1(password + salt) + salt), which nginx's auth_basic reads. */
function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash("sha1").update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString("base64")}`;
}
