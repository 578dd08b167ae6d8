/**
 * The long-lived state of one cache directory: object store, stat memo, tool
 * probe, key locks and last-build records. A single build creates one; watch
 * mode keeps one across rebuilds so memos stay warm and in-process locks see
 * each other.
 */
import { join } from "node:path";
import { BuildRecords } from "./build-records.js";
import { KeyLocks } from "./key-lock.js";
import { ObjectStore } from "./object-store.js";
import { StatMemo } from "./stat-memo.js";
import { ToolProbe } from "./tool-probe.js";

export interface RunnerContext {
  cacheDir: string;
  store: ObjectStore;
  memo: StatMemo;
  tools: ToolProbe;
  locks: KeyLocks;
  records: BuildRecords;
  /** Persists memos; call after a build (cheap when nothing changed). */
  flush(): Promise<void>;
}

export async function createRunnerContext(cacheDir: string): Promise<RunnerContext> {
  const memo = await StatMemo.load(join(cacheDir, "stat-memo.json"));
  const tools = new ToolProbe(join(cacheDir, "tool-memo.json"));
  return {
    cacheDir,
    store: new ObjectStore(cacheDir),
    memo,
    tools,
    locks: new KeyLocks(join(cacheDir, "locks")),
    records: new BuildRecords(join(cacheDir, "records")),
    async flush() {
      await Promise.all([memo.save(), tools.save()]);
    },
  };
}
