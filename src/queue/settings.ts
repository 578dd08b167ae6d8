/**
 * Where the job queue lives: a Redis URL from the environment
 * (TINYFORMER_REDIS_URL, default redis://127.0.0.1:6379), and the names of
 * the keys TinyFormer keeps there. No Redis client here: the stages import
 * this, and only a build that uses the queue should load one.
 */
export const REDIS_URL_ENV = "TINYFORMER_REDIS_URL";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
/** The BullMQ queue every coordinator and worker of a Redis database shares. */
export const QUEUE_NAME = "tinyformer-jobs";
/** Prefix of the keys TinyFormer keeps next to BullMQ's (job setups, cancellations). */
export const KEY_PREFIX = "tinyformer";

export function redisUrlFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  const value = env[REDIS_URL_ENV]?.trim();
  return value === undefined || value === "" ? DEFAULT_REDIS_URL : value;
}

/** Shows a URL without its password. */
export function displayRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

export const setupKey = (digest: string) => `${KEY_PREFIX}:setup:${digest}`;
export const cancelledKey = (jobId: string) => `${KEY_PREFIX}:cancelled:${jobId}`;
/** Pub/sub channel: JSON arrays of job ids to stop now. */
export const CANCEL_CHANNEL = `${KEY_PREFIX}:cancel`;
