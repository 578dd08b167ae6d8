/**
 * Connections to the queue's Redis (settings.ts), each checked with one
 * short-lived connection first, so a missing or unreachable server is an
 * error naming the URL within seconds, never a hang (BullMQ alone retries
 * for ever).
 */
import { Redis } from "ioredis";
import { displayRedisUrl, REDIS_URL_ENV } from "./settings.js";

export class QueueConnectionError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(
      `cannot reach the job queue's Redis at ${url} (${reason}); start redis-server there or set ${REDIS_URL_ENV}`,
    );
    this.name = "QueueConnectionError";
  }
}

/**
 * A Redis connection for BullMQ (`maxRetriesPerRequest: null`, as its
 * workers require), opened only after the server answered a PING within
 * `timeoutMs`.
 */
export async function connectRedis(url: string, timeoutMs = 3000): Promise<Redis> {
  const shown = displayRedisUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueConnectionError(shown, "not a URL");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw new QueueConnectionError(shown, "the URL must start with redis:// or rediss://");
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on("error", () => undefined);
  try {
    await withTimeout(
      probe.connect().then(() => probe.ping()),
      timeoutMs,
      `no answer within ${timeoutMs} ms`,
    );
  } catch (error) {
    throw new QueueConnectionError(shown, error instanceof Error ? error.message : String(error));
  } finally {
    probe.disconnect();
  }
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  // Reconnects are BullMQ's business; an unhandled 'error' would end the process.
  connection.on("error", () => undefined);
  return connection;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
