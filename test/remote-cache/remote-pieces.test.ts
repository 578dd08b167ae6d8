/** Pieces of the remote cache that need no server: the circuit breaker, envelopes, keys. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createSigningKeyFiles, openRemoteCache } from "../../src/api/remote-cache.js";
import { canonicalJson } from "../../src/graph-runner/canonical-json.js";
import { CircuitBreaker } from "../../src/graph-runner/circuit-breaker.js";
import type { CacheKey } from "../../src/graph-runner/digest.js";
import { digestText } from "../../src/graph-runner/digest.js";
import {
  generateSigningKeyPair,
  parsePrivateKey,
  parsePublicKey,
  signEntry,
} from "../../src/graph-runner/entry-signing.js";
import {
  computeCacheKey,
  FINGERPRINT_FORMAT,
  type Fingerprint,
} from "../../src/graph-runner/fingerprint.js";
import { ENTRY_FORMAT } from "../../src/graph-runner/object-store.js";
import { parseEnvelope } from "../../src/graph-runner/remote-cache.js";

describe("circuit breaker", () => {
  test("opens after three failures in a row, backs off doubling, closes on a success", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ threshold: 3, backoffMs: 1000, now: () => now });
    assert.equal(breaker.failed(), false);
    assert.equal(breaker.failed(), false);
    assert.equal(breaker.failed(), true, "the third failure opens it");
    assert.equal(breaker.allows(), false);
    now = 1000;
    assert.equal(breaker.allows(), true, "a trial after the back-off");
    assert.equal(breaker.failed(), true, "a failed trial reopens at once");
    now = 2999;
    assert.equal(breaker.allows(), false, "for twice as long");
    now = 3000;
    breaker.succeeded();
    assert.equal(breaker.failed(), false, "a success resets the count");
    assert.equal(breaker.timesOpened, 2);
  });
});

describe("signed entry envelopes", () => {
  const pair = generateSigningKeyPair();
  const trusted = [parsePublicKey(pair.publicPem, "test")];
  const signer = parsePrivateKey(pair.privatePem, "test");

  function envelopeFor(
    outputs: Record<string, { digest: string; size: number; executable: boolean }>,
  ) {
    const fingerprint: Fingerprint = {
      format: FINGERPRINT_FORMAT,
      stage: "s",
      code: digestText("code") as never,
      tools: {},
      config: {},
      files: {},
      upstream: {},
    };
    const key = computeCacheKey(fingerprint);
    const entry = {
      format: ENTRY_FORMAT,
      stage: "s",
      key,
      fingerprint,
      outputs,
      outputsDigest: digestText(canonicalJson(outputs)),
      createdAt: "",
      durationMs: 0,
    };
    const text = canonicalJson(entry);
    return {
      key: key as CacheKey,
      text: JSON.stringify({
        format: 1,
        stage: "s",
        key,
        keyId: signer.id,
        signature: signEntry(signer, "s", key, text),
        entry: text,
      }),
    };
  }

  test("a well-signed entry is a hit; the same signature under another key is rejected", () => {
    const { key, text } = envelopeFor({
      "out.bin": { digest: digestText("x"), size: 1, executable: false },
    });
    assert.equal(parseEnvelope(text, "s", key, trusted).kind, "hit");
    const other = digestText("another key") as string as CacheKey;
    assert.deepEqual(parseEnvelope(text, "s", other, trusted), {
      kind: "rejected",
      why: "the entry names another stage or key",
    });
  });

  test("a signed entry whose outputs would be written outside the output directory is rejected", () => {
    for (const path of ["../escape.txt", "/etc/passwd", "a//b", "a/./b"]) {
      const { key, text } = envelopeFor({
        [path]: { digest: digestText("x"), size: 1, executable: false },
      });
      assert.equal(parseEnvelope(text, "s", key, trusted).kind, "rejected", path);
    }
  });
});

test("cache keygen writes a secret private key and a public key, and never overwrites", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tinyformer-keys-"));
  try {
    const made = await createSigningKeyFiles(dir, "ci");
    assert.equal((await stat(made.privateFile)).mode & 0o777, 0o600);
    const publicKey = parsePublicKey(await readFile(made.publicFile, "utf8"), "pub");
    assert.equal(publicKey.id, made.id);
    assert.equal(parsePrivateKey(await readFile(made.privateFile, "utf8"), "key").id, made.id);
    await assert.rejects(createSigningKeyFiles(dir, "ci"), /exists/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe("the workspace's remote cache settings", () => {
  const workspace = (remote_cache?: Record<string, unknown>) =>
    ({
      root: "/nonexistent",
      file: "/nonexistent/tinyformer.yaml",
      config: { remote_cache },
    }) as never;

  test("no URL anywhere, or `off`: no remote cache", async () => {
    assert.equal(await openRemoteCache(workspace(), {}), undefined);
    assert.equal(
      await openRemoteCache(workspace({ url: "http://x/cache" }), {
        TINYFORMER_REMOTE_CACHE: "off",
      }),
      undefined,
    );
  });

  test("the environment sets the URL, namespace and mode; credentials become a header", async () => {
    const remote = await openRemoteCache(workspace({ url: "http://from-file/cache" }), {
      TINYFORMER_REMOTE_CACHE: "http://from-env/cache/",
      TINYFORMER_REMOTE_CACHE_NAMESPACE: "pr",
      TINYFORMER_REMOTE_CACHE_MODE: "read-write",
      TINYFORMER_REMOTE_CACHE_AUTH: "ci:secret",
    });
    assert.equal(remote?.entryUrl("k"), "http://from-env/cache/pr/ac/k");
    assert.equal(remote?.options.mode, "read-write");
    assert.equal(
      remote?.options.authorization,
      `Basic ${Buffer.from("ci:secret").toString("base64")}`,
    );
  });

  test("bad settings are errors that say which setting", async () => {
    await assert.rejects(
      openRemoteCache(workspace(), { TINYFORMER_REMOTE_CACHE: "ftp://x" }),
      /TINYFORMER_REMOTE_CACHE: "ftp:\/\/x" is not an http\(s\) URL/,
    );
    await assert.rejects(
      openRemoteCache(workspace({ url: "http://x" }), { TINYFORMER_REMOTE_CACHE_MODE: "write" }),
      /TINYFORMER_REMOTE_CACHE_MODE: "write" is neither read-only nor read-write/,
    );
    await assert.rejects(
      openRemoteCache(workspace({ url: "http://x", trusted_keys: ["keys/missing.pub"] }), {}),
      /remote_cache.trusted_keys\[0\] \(keys\/missing.pub\): cannot read the file/,
    );
    await assert.rejects(
      openRemoteCache(workspace({ url: "http://x" }), {
        TINYFORMER_REMOTE_CACHE_SIGNING_KEY:
          "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----",
      }),
      /TINYFORMER_REMOTE_CACHE_SIGNING_KEY: not a PEM private key/,
    );
  });
});
