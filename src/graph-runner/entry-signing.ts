/**
 * Ed25519 signatures on cache entries shared through a remote cache. The
 * server is never trusted for integrity: objects are checked against their
 * digests, and an entry (which says "these inputs gave these outputs") is
 * used only when a key the workspace trusts signed it.
 *
 * What is signed binds the entry to its stage and cache key, so a valid
 * signature cannot be replayed under another key.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { digestBytes } from "./digest.js";

/** A public key by its id: the first 16 hex digits of the SHA-256 of its raw 32 bytes. */
export interface TrustedKey {
  id: string;
  key: KeyObject;
}

export function publicKeyId(key: KeyObject): string {
  const der = key.export({ type: "spki", format: "der" });
  // The raw Ed25519 key is the last 32 bytes of its SPKI encoding.
  return digestBytes(der.subarray(der.length - 32)).slice(0, 16);
}

/** Parses a PEM public key (SPKI), throwing a readable error for anything else. */
export function parsePublicKey(pem: string, origin: string): TrustedKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new Error(`${origin}: not a PEM public key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`${origin}: an ${key.asymmetricKeyType} key; remote cache entries use Ed25519`);
  }
  return { id: publicKeyId(key), key };
}

export interface SigningKey {
  id: string;
  key: KeyObject;
}

export function parsePrivateKey(pem: string, origin: string): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${origin}: not a PEM private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`${origin}: an ${key.asymmetricKeyType} key; remote cache entries use Ed25519`);
  }
  return { id: publicKeyId(createPublicKey(key)), key };
}

/** A new key pair, PEM-encoded (PKCS#8 private, SPKI public). */
export function generateSigningKeyPair(): { privatePem: string; publicPem: string; id: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    id: publicKeyId(publicKey),
  };
}

function signedBytes(stage: string, key: string, entryText: string): Buffer {
  return Buffer.from(`tinyformer-entry-v1\n${stage}\n${key}\n${entryText}`, "utf8");
}

export function signEntry(
  signer: SigningKey,
  stage: string,
  key: string,
  entryText: string,
): string {
  return sign(null, signedBytes(stage, key, entryText), signer.key).toString("base64");
}

/** True when `signature` is a valid signature by a trusted key with id `keyId`. */
export function verifyEntrySignature(
  trusted: readonly TrustedKey[],
  keyId: string,
  stage: string,
  key: string,
  entryText: string,
  signature: string,
): boolean {
  const signer = trusted.find((candidate) => candidate.id === keyId);
  if (signer === undefined) return false;
  try {
    return verify(
      null,
      signedBytes(stage, key, entryText),
      signer.key,
      Buffer.from(signature, "base64"),
    );
  } catch {
    return false;
  }
}
