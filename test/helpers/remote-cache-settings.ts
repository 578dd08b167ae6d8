/** The `remote_cache` section the remote cache tests and benchmark write, and the entries they tamper with. */

export interface RemoteCacheSettings {
  url: string;
  namespace?: string;
  mode?: "read-only" | "read-write";
  timeoutMs?: number;
  /** Names of the environment variables holding the credentials and the signing key. */
  credentialsEnv: string;
  signingKeyEnv: string;
}

/** `remote_cache:` for tinyformer.yaml, trusting `keys/trusted.pub`. */
export function remoteCacheYaml(settings: RemoteCacheSettings): string {
  return [
    "remote_cache:",
    `  url: ${settings.url}`,
    `  namespace: ${settings.namespace ?? "main"}`,
    `  mode: ${settings.mode ?? "read-only"}`,
    ...(settings.timeoutMs === undefined ? [] : [`  timeout_ms: ${settings.timeoutMs}`]),
    "  trusted_keys: [keys/trusted.pub]",
    `  credentials_env: ${settings.credentialsEnv}`,
    `  signing_key_env: ${settings.signingKeyEnv}`,
    "",
  ].join("\n");
}

/** An entry as the server stores it (see src/graph-runner/remote-cache.ts). */
export interface StoredEnvelope {
  stage: string;
  key: string;
  keyId: string;
  signature?: string;
  entry: string;
}
