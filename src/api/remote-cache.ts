/**
 * The workspace's remote cache, from `remote_cache` in tinyformer.yaml and
 * the environment (CI sets the URL, namespace and mode there; credentials
 * and the signing key only ever come from the environment).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Workspace } from "../config/load-workspace.js";
import type { RemoteCacheConfig } from "../config/types.js";
import {
  generateSigningKeyPair,
  parsePrivateKey,
  parsePublicKey,
  type TrustedKey,
} from "../graph-runner/entry-signing.js";
import { RemoteCache } from "../graph-runner/remote-cache.js";

export const REMOTE_CACHE_ENV = {
  url: "TINYFORMER_REMOTE_CACHE",
  namespace: "TINYFORMER_REMOTE_CACHE_NAMESPACE",
  mode: "TINYFORMER_REMOTE_CACHE_MODE",
} as const;

const DEFAULTS: RemoteCacheConfig = {
  namespace: "main",
  mode: "read-only",
  timeout_ms: 10_000,
  trusted_keys: [],
  credentials_env: "TINYFORMER_REMOTE_CACHE_AUTH",
  signing_key_env: "TINYFORMER_REMOTE_CACHE_SIGNING_KEY",
};

export class RemoteCacheConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RemoteCacheConfigError";
  }
}

/** The configured remote cache, or undefined when there is none (or it is turned `off`). */
export async function openRemoteCache(
  workspace: Workspace,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RemoteCache | undefined> {
  const config = { ...DEFAULTS, ...workspace.config.remote_cache };
  const url = env[REMOTE_CACHE_ENV.url] ?? config.url;
  if (url === undefined || url === "" || url === "off") return undefined;
  if (!/^https?:\/\/\S+$/.test(url)) {
    throw new RemoteCacheConfigError(`${REMOTE_CACHE_ENV.url}: "${url}" is not an http(s) URL`);
  }
  const namespace = env[REMOTE_CACHE_ENV.namespace] ?? config.namespace;
  if (!/^[A-Za-z0-9._-]+$/.test(namespace)) {
    throw new RemoteCacheConfigError(
      `remote cache namespace "${namespace}": use letters, digits, ".", "_" and "-"`,
    );
  }
  const mode = env[REMOTE_CACHE_ENV.mode] ?? config.mode;
  if (mode !== "read-only" && mode !== "read-write") {
    throw new RemoteCacheConfigError(
      `${REMOTE_CACHE_ENV.mode}: "${mode}" is neither read-only nor read-write`,
    );
  }
  const trustedKeys: TrustedKey[] = [];
  for (const [index, file] of config.trusted_keys.entries()) {
    const origin = `${workspace.file}: remote_cache.trusted_keys[${index}] (${file})`;
    const text = await readFile(resolve(workspace.root, file), "utf8").catch(() => {
      throw new RemoteCacheConfigError(`${origin}: cannot read the file`);
    });
    try {
      trustedKeys.push(parsePublicKey(text, origin));
    } catch (error) {
      throw new RemoteCacheConfigError((error as Error).message);
    }
  }
  const secret = env[config.signing_key_env];
  let signingKey: ReturnType<typeof parsePrivateKey> | undefined;
  if (secret !== undefined && secret !== "") {
    const pem = secret.includes("-----BEGIN")
      ? secret
      : await readFile(resolve(secret), "utf8").catch(() => {
          throw new RemoteCacheConfigError(
            `${config.signing_key_env}: neither a PEM key nor a readable file (${secret})`,
          );
        });
    try {
      signingKey = parsePrivateKey(pem, config.signing_key_env);
    } catch (error) {
      throw new RemoteCacheConfigError((error as Error).message);
    }
  }
  const credentials = env[config.credentials_env];
  return new RemoteCache({
    url,
    namespace,
    mode,
    timeoutMs: config.timeout_ms,
    trustedKeys,
    ...(signingKey === undefined ? {} : { signingKey }),
    ...(credentials === undefined || credentials === ""
      ? {}
      : { authorization: authorizationHeader(credentials) }),
  });
}

/** `user:password` → HTTP basic; anything with a space (`Bearer …`) is used as it is. */
function authorizationHeader(credentials: string): string {
  if (credentials.includes(" ")) return credentials;
  return `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
}

/** `cache keygen`: a new key pair; refuses to overwrite an existing key. */
export async function createSigningKeyFiles(
  dir: string,
  name: string,
): Promise<{ privateFile: string; publicFile: string; id: string }> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new RemoteCacheConfigError(`key name "${name}": use letters, digits, ".", "_" and "-"`);
  }
  const pair = generateSigningKeyPair();
  const privateFile = join(dir, `${name}.key`);
  const publicFile = join(dir, `${name}.pub`);
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(privateFile, pair.privatePem, { mode: 0o600, flag: "wx" });
    await writeFile(publicFile, pair.publicPem, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new RemoteCacheConfigError(
        `${(error as NodeJS.ErrnoException).path}: exists; choose another name or remove it`,
      );
    }
    throw error;
  }
  return { privateFile, publicFile, id: pair.id };
}
