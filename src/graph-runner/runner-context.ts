/**
 * The long-lived state of one cache directory: object store, stat memo, tool
 * probe, code-identity memo, key locks and last-build records. A single build creates one; watch
 * mode keeps one across rebuilds so memos stay warm and in-process locks see
 * each other.
 */
import { join } from "node:path";
import { BuildRecords } from "./build-records.js";
import { CodeIdentityMemo } from "./code-identity.js";
import { KeyLocks } from "./key-lock.js";
import { ObjectStore } from "./object-store.js";
import type { RemoteCache } from "./remote-cache.js";
import { StatMemo } from "./stat-memo.js";
import { ToolProbe } from "./tool-probe.js";

export interface RunnerContext {
  cacheDir: string;
  store: ObjectStore;
  memo: StatMemo;
  tools: ToolProbe;
  /** Stage code digests, valid while the code's files keep their stat. */
  code: CodeIdentityMemo;
  locks: KeyLocks;
  records: BuildRecords;
  /** The shared remote cache, when the workspace has one. */
  remote?: RemoteCache;
  /** Persists memos; call after a build (cheap when nothing changed). */
  flush(): Promise<void>;
}

export async function createRunnerContext(
  cacheDir: string,
  options: { remote?: RemoteCache } = {},
): Promise<RunnerContext> {
  const memo = await StatMemo.load(join(cacheDir, "stat-memo.json"));
  const tools = new ToolProbe(join(cacheDir, "tool-memo.json"));
  const code = await CodeIdentityMemo.load(join(cacheDir, "code-memo.json"));
  return {
    cacheDir,
    store: new ObjectStore(cacheDir, memo),
    memo,
    tools,
    code,
    locks: new KeyLocks(join(cacheDir, "locks")),
    records: new BuildRecords(join(cacheDir, "records")),
    ...(options.remote === undefined ? {} : { remote: options.remote }),
    async flush() {
      await Promise.all([memo.save(), tools.save(), code.save()]);
    },
  };
}
