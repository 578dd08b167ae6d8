/**
 * A shared remote cache over plain HTTP, in the layout of Bazel's HTTP remote
 * cache, so any server that can GET, HEAD and PUT files (nginx with WebDAV
 * PUT, a bucket behind a proxy) can host it:
 *
 *   {url}/{namespace}/cas/{sha256}   an object's bytes
 *   {url}/{namespace}/ac/{cache key} a signed entry (JSON envelope below)
 *
 * The server is never trusted for integrity. A downloaded object is hashed
 * as it streams in and kept only if its size and digest are the ones the
 * entry names; an entry is used only if a trusted Ed25519 key signed it and
 * it hashes to the key that was asked for. Anything else is rejected and
 * the stage is computed locally.
 *
 * A remote that fails (down, slow, refusing) never fails a build: a circuit
 * breaker stops calling it after a few failures, and one warning says so.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { canonicalJson } from "./canonical-json.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import { type CacheKey, type ContentDigest, digestText, isHexDigest } from "./digest.js";
import {
  type SigningKey,
  signEntry,
  type TrustedKey,
  verifyEntrySignature,
} from "./entry-signing.js";
import { computeCacheKey } from "./fingerprint.js";
import {
  type CacheEntry,
  ENTRY_FORMAT,
  type ObjectStore,
  type OutputFile,
} from "./object-store.js";

export interface RemoteCacheOptions {
  /** Base URL, e.g. `http://cache.example:8080/tinyformer`. */
  url: string;
  /** Separates caches on one server (main, pull requests, …). */
  namespace: string;
  /** A read-only client never writes. */
  mode: "read-only" | "read-write";
  /** Time to wait for a response's headers. */
  timeoutMs: number;
  /** `Authorization` header value, when the server wants one. */
  authorization?: string;
  /** Keys whose signatures make an entry usable. */
  trustedKeys: readonly TrustedKey[];
  /** Signs published entries; a read-write client without one cannot publish. */
  signingKey?: SigningKey;
  breaker?: CircuitBreaker;
}

/** The stored form of an entry on the server. */
interface EntryEnvelope {
  format: 1;
  stage: string;
  key: string;
  keyId: string;
  signature: string;
  /** The entry's JSON text, exactly as signed. */
  entry: string;
}

export type RemoteLookup =
  | { kind: "hit"; entry: CacheEntry }
  | { kind: "miss" }
  | { kind: "rejected"; why: string }
  | { kind: "unavailable"; why: string };

export class RemoteRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "RemoteRequestError";
  }
}

export class RemoteCache {
  readonly options: RemoteCacheOptions;
  readonly #breaker: CircuitBreaker;
  /** Where warnings go (one per kind per process): the runner points it at the build's events. */
  onWarning: (message: string) => void;
  #warnedUnavailable = false;
  #warnedUpload = false;

  constructor(options: RemoteCacheOptions, onWarning: (message: string) => void = () => undefined) {
    this.options = { ...options, url: options.url.replace(/\/+$/, "") };
    this.#breaker = options.breaker ?? new CircuitBreaker();
    this.onWarning = onWarning;
  }

  get canPublish(): boolean {
    return this.options.mode === "read-write";
  }

  objectUrl(digest: string): string {
    return `${this.options.url}/${this.options.namespace}/cas/${digest}`;
  }

  entryUrl(key: string): string {
    return `${this.options.url}/${this.options.namespace}/ac/${key}`;
  }

  /** Whether the remote has an entry for `key` (HEAD only; nothing is verified). */
  async hasEntry(key: CacheKey, signal?: AbortSignal): Promise<boolean | undefined> {
    try {
      const response = await this.#request("HEAD", this.entryUrl(key), signal);
      return response.ok;
    } catch {
      return undefined;
    }
  }

  /** The signed, consistent entry for `key`, or why there is none. */
  async fetchEntry(stage: string, key: CacheKey, signal?: AbortSignal): Promise<RemoteLookup> {
    let text: string;
    try {
      const response = await this.#request("GET", this.entryUrl(key), signal);
      if (response.status === 404) return { kind: "miss" };
      if (!response.ok) throw new RemoteRequestError(`HTTP ${response.status}`, response.status);
      text = await response.text();
    } catch (error) {
      return { kind: "unavailable", why: describe(error) };
    }
    return parseEnvelope(text, stage, key, this.options.trustedKeys);
  }

  /**
   * Downloads the objects of `entry` the local store lacks (verifying each),
   * then writes the entry locally. `beforeStore` runs before the first
   * object enters the store (the runner pins them against gc).
   */
  async restore(
    entry: CacheEntry,
    store: ObjectStore,
    beforeStore: (digests: string[]) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<{ bytes: number }> {
    const needed: OutputFile[] = [];
    for (const output of Object.values(entry.outputs)) {
      if ((await store.checkObject(output)) !== undefined) needed.push(output);
    }
    await beforeStore(needed.map((output) => output.digest));
    let bytes = 0;
    for (const output of needed) {
      await this.#downloadObject(output, store, signal);
      bytes += output.size;
    }
    await store.writeEntry(entry);
    return { bytes };
  }

  /**
   * Uploads a stage's result: objects the server lacks (HEAD first), then the
   * signed entry, unless one is already there (concurrent publishers of one
   * key converge on the first entry). Failures are reported, never thrown.
   */
  async publish(entry: CacheEntry, store: ObjectStore, signal?: AbortSignal): Promise<boolean> {
    const signer = this.options.signingKey;
    if (this.options.mode !== "read-write") return false;
    if (signer === undefined) {
      if (!this.#warnedUpload) {
        this.#warnedUpload = true;
        this.onWarning(
          "remote cache: read-write, but no signing key is set, so nothing is uploaded (see `tinyformer cache keygen`)",
        );
      }
      return false;
    }
    try {
      if ((await this.#request("HEAD", this.entryUrl(entry.key), signal)).ok) return true;
      for (const output of Object.values(entry.outputs)) {
        const url = this.objectUrl(output.digest);
        if ((await this.#request("HEAD", url, signal)).ok) continue;
        await this.#put(url, store.objectPath(output.digest), output.size, signal);
      }
      const text = canonicalJson(entry);
      const envelope: EntryEnvelope = {
        format: 1,
        stage: entry.stage,
        key: entry.key,
        keyId: signer.id,
        signature: signEntry(signer, entry.stage, entry.key, text),
        entry: text,
      };
      const body = JSON.stringify(envelope);
      const response = await this.#request("PUT", this.entryUrl(entry.key), signal, {
        body,
        headers: { "content-type": "application/json" },
      });
      if (!response.ok) throw new RemoteRequestError(`HTTP ${response.status}`, response.status);
      return true;
    } catch (error) {
      // A refusal (credentials, namespace) is said here, once; a remote that
      // does not answer is said by the circuit breaker, once.
      const refused = error instanceof RemoteRequestError && error.status !== undefined;
      if (!this.#warnedUpload && refused) {
        this.#warnedUpload = true;
        this.onWarning(
          `remote cache: could not upload ${entry.stage} to ${this.options.url}/${this.options.namespace} (${describe(error)}); it stays in the local cache`,
        );
      }
      return false;
    }
  }

  /**
   * Checks for `doctor`: the server answers, a writer's credentials are
   * accepted (by storing a small probe object, harmless in a content-
   * addressed store), and the keys make sense.
   */
  async probe(): Promise<{ name: string; ok: boolean; detail: string }[]> {
    const where = `${this.options.url}/${this.options.namespace}`;
    const checks: { name: string; ok: boolean; detail: string }[] = [];
    try {
      const response = await fetch(this.entryUrl("0".repeat(64)), {
        method: "HEAD",
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: this.#headers(),
      });
      const ok = response.status === 404 || response.ok;
      checks.push({
        name: "remote cache",
        ok,
        detail: `${where} (${this.options.mode}): ${ok ? "answers" : `HTTP ${response.status}`}`,
      });
    } catch (error) {
      checks.push({ name: "remote cache", ok: false, detail: `${where}: ${describe(error)}` });
      return checks;
    }
    if (this.options.mode === "read-write") {
      const probe = Buffer.from("tinyformer remote cache probe\n");
      const digest = digestText(probe.toString());
      const response = await fetch(this.objectUrl(digest), {
        method: "PUT",
        body: probe,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: this.#headers(),
      }).catch((error: unknown) => error as Error);
      const ok = response instanceof Response && response.ok;
      checks.push({
        name: "remote writes",
        ok,
        detail: ok
          ? `credentials accepted for namespace ${this.options.namespace}`
          : `an upload to ${this.options.namespace} was refused (${response instanceof Response ? `HTTP ${response.status}` : describe(response)}); check the credentials variable and the namespace`,
      });
      const signer = this.options.signingKey;
      const trusted = this.options.trustedKeys.some((key) => key.id === signer?.id);
      checks.push({
        name: "signing key",
        ok: signer !== undefined && trusted,
        detail:
          signer === undefined
            ? "no signing key: nothing would be uploaded (tinyformer cache keygen)"
            : trusted
              ? `key ${signer.id}, among the trusted keys`
              : `key ${signer.id} is not in remote_cache.trusted_keys: nobody with this workspace would use what it uploads`,
      });
    }
    checks.push({
      name: "trusted keys",
      ok: this.options.trustedKeys.length > 0,
      detail:
        this.options.trustedKeys.length > 0
          ? this.options.trustedKeys.map((key) => key.id).join(", ")
          : "none: every remote entry would be rejected (remote_cache.trusted_keys)",
    });
    return checks;
  }

  async #downloadObject(output: OutputFile, store: ObjectStore, signal?: AbortSignal) {
    const response = await this.#request("GET", this.objectUrl(output.digest), signal);
    if (!response.ok || response.body === null) {
      throw new RemoteRequestError(`object ${output.digest.slice(0, 12)}: HTTP ${response.status}`);
    }
    const dir = join(store.root, "tmp");
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    const hash = createHash("sha256");
    let size = 0;
    const check = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        // A server sending more than the entry promises is cut off at once.
        if (size > output.size)
          return done(new RemoteRequestError("object larger than its entry says"));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        check,
        createWriteStream(temp, { mode: 0o600 }),
        ...(signal === undefined ? [] : [{ signal }]),
      );
      const digest = hash.digest("hex");
      if (size !== output.size || digest !== output.digest) {
        throw new RemoteRequestError(
          `object ${output.digest.slice(0, 12)}: the server sent bytes with another digest or size`,
        );
      }
      await store.adoptFile(temp, digest as ContentDigest);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async #put(url: string, path: string, size: number, signal?: AbortSignal): Promise<void> {
    const info = await stat(path);
    if (info.size !== size) throw new RemoteRequestError(`local object ${path} changed size`);
    const response = await this.#request("PUT", url, signal, {
      body: Readable.toWeb(createReadStream(path)) as unknown as RequestInit["body"],
      headers: { "content-length": String(size), "content-type": "application/octet-stream" },
      duplex: "half",
    });
    if (!response.ok) throw new RemoteRequestError(`HTTP ${response.status}`, response.status);
  }

  /** `init` plus the credentials, when the server wants some. */
  #headers(init?: RequestInit["headers"]): Headers {
    const headers = new Headers(init);
    if (this.options.authorization !== undefined) {
      headers.set("authorization", this.options.authorization);
    }
    return headers;
  }

  /**
   * One request through the circuit breaker: a transport failure, a time-out
   * or a 5xx counts against the remote; a 4xx other than 404 is a refusal
   * (credentials, namespace) and counts too.
   */
  async #request(
    method: string,
    url: string,
    signal: AbortSignal | undefined,
    init: RequestInit & { duplex?: "half" } = {},
  ): Promise<Response> {
    if (!this.#breaker.allows()) {
      throw new RemoteRequestError("skipped: the remote cache failed repeatedly (backing off)");
    }
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new RemoteRequestError(`no response in ${this.options.timeoutMs} ms`)),
      this.options.timeoutMs,
    );
    const signals = signal === undefined ? [timeout.signal] : [timeout.signal, signal];
    try {
      const headers = this.#headers(init.headers);
      const response = await fetch(url, {
        ...init,
        method,
        headers,
        signal: AbortSignal.any(signals),
      });
      if (response.status >= 500 || (response.status >= 400 && response.status !== 404)) {
        throw new RemoteRequestError(`${method} ${url}: HTTP ${response.status}`, response.status);
      }
      this.#breaker.succeeded();
      return response;
    } catch (error) {
      if (signal?.aborted) throw error;
      const opened = this.#breaker.failed();
      if (opened && !this.#warnedUnavailable) {
        this.#warnedUnavailable = true;
        this.onWarning(
          `remote cache ${this.options.url}/${this.options.namespace} is not answering (${describe(error)}); building locally and backing off`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Checks an envelope from the server against the trusted keys and the key asked for. */
export function parseEnvelope(
  text: string,
  stage: string,
  key: CacheKey,
  trustedKeys: readonly TrustedKey[],
): RemoteLookup {
  let envelope: EntryEnvelope;
  try {
    envelope = JSON.parse(text) as EntryEnvelope;
  } catch {
    return { kind: "rejected", why: "the entry is not valid JSON" };
  }
  if (envelope?.format !== 1 || typeof envelope.entry !== "string") {
    return { kind: "rejected", why: "the entry is not a signed entry envelope" };
  }
  if (envelope.stage !== stage || envelope.key !== key) {
    return { kind: "rejected", why: "the entry names another stage or key" };
  }
  if (typeof envelope.signature !== "string" || typeof envelope.keyId !== "string") {
    return { kind: "rejected", why: "the entry is not signed" };
  }
  if (!trustedKeys.some((trusted) => trusted.id === envelope.keyId)) {
    return {
      kind: "rejected",
      why: `the entry is signed by key ${envelope.keyId}, which this workspace does not trust`,
    };
  }
  if (
    !verifyEntrySignature(
      trustedKeys,
      envelope.keyId,
      stage,
      key,
      envelope.entry,
      envelope.signature,
    )
  ) {
    return { kind: "rejected", why: "the entry's signature does not verify" };
  }
  let entry: CacheEntry;
  try {
    entry = JSON.parse(envelope.entry) as CacheEntry;
    if (
      entry.format !== ENTRY_FORMAT ||
      entry.stage !== stage ||
      entry.key !== key ||
      computeCacheKey(entry.fingerprint) !== key ||
      digestText(canonicalJson(entry.outputs)) !== entry.outputsDigest ||
      !Object.values(entry.outputs).every(
        (output) => isHexDigest(output.digest) && Number.isInteger(output.size) && output.size >= 0,
      ) ||
      !Object.keys(entry.outputs).every(isSafeRelativePath)
    ) {
      return {
        kind: "rejected",
        why: "the signed entry does not match the key it is stored under",
      };
    }
  } catch {
    return { kind: "rejected", why: "the signed entry is malformed" };
  }
  return { kind: "hit", entry };
}

/** `a/b.txt`, never `../x`, `/x` or `a//b`: outputs are written below the output directory. */
function isSafeRelativePath(path: string): boolean {
  return (
    path.split("/").every((part) => part !== "" && part !== "." && part !== "..") &&
    !path.includes("\\")
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
