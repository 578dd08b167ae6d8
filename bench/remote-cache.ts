/**
 * `npm run bench -- remote-cache [--skip-default]`: the shared remote cache
 * against a real nginx on 127.0.0.1 (deploy/nginx-remote-cache.conf).
 *
 * 1. The default recipe in a fresh copy of the shipped workspace, computed
 *    from an empty cache by a read-write client (its uploads included in the
 *    time), then in a second fresh copy with an empty local cache by a
 *    read-only client: wall times and their ratio.
 * 2. HEAD requests per second against objects the server has (sequential,
 *    as the client issues them).
 * 3. Tampering, on the tiny recipe: for two stages, the server's object
 *    bytes replaced, the entry's signature removed, the entry re-signed by a
 *    key the workspace does not trust, the signed entry's outputs edited, and
 *    a valid entry replayed under another stage's key. Each case is a fresh
 *    read-only workspace building from the tampered server: the case counts
 *    as rejected when the build reports the rejection, succeeds, and writes
 *    the bytes of an untampered build.
 *
 * Last line: {"cold_s", "warm_remote_s", "speedup", "heads_per_s",
 * "tampered_rejected", "tampered_total"}.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateSigningKeyPair,
  parsePrivateKey,
  signEntry,
} from "../src/graph-runner/entry-signing.js";
import { packageRoot } from "../src/project-paths.js";
import { type NginxServer, startNginx } from "../test/helpers/nginx.js";
import { compareSnapshots, snapshotOutputs } from "../test/helpers/reliability.js";
import { remoteCacheYaml, type StoredEnvelope } from "../test/helpers/remote-cache-settings.js";
import { createTestWorkspace, type TestWorkspace, TINY_RECIPE } from "../test/helpers/workspace.js";

const cli = join(packageRoot, "bin", "tinyformer.js");
const signer = generateSigningKeyPair();
const stranger = generateSigningKeyPair();
const HEADS = 500;

export async function main(args: string[]): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const server = await startNginx();
  process.env.TF_BENCH_CACHE_AUTH = server.credentials.ci;
  process.env.TF_BENCH_SIGNING_KEY = signer.privatePem;
  try {
    let cold_s: number | null = null;
    let warm_remote_s: number | null = null;
    if (!args.includes("--skip-default")) {
      const writer = await shippedWorkspaceCopy(server, "read-write");
      const reader = await shippedWorkspaceCopy(server, "read-only");
      try {
        cold_s = timeBuild(writer, log);
        warm_remote_s = timeBuild(reader, log);
      } finally {
        await rm(writer, { recursive: true, force: true });
        await rm(reader, { recursive: true, force: true });
      }
    }
    const heads_per_s = await headsPerSecond(server);
    const tampered = await tamperingTrials(server, log);
    const result = {
      cold_s,
      warm_remote_s,
      speedup:
        cold_s !== null && warm_remote_s !== null
          ? Math.round((cold_s / warm_remote_s) * 10) / 10
          : null,
      heads_per_s,
      tampered_rejected: tampered.rejected,
      tampered_total: tampered.total,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await server.stop();
  }
}

function remoteSection(server: NginxServer, mode: "read-only" | "read-write", namespace = "main") {
  return remoteCacheYaml({
    url: server.url,
    namespace,
    mode,
    credentialsEnv: "TF_BENCH_CACHE_AUTH",
    signingKeyEnv: "TF_BENCH_SIGNING_KEY",
  });
}

async function shippedWorkspaceCopy(
  server: NginxServer,
  mode: "read-only" | "read-write",
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tinyformer-remote-"));
  for (const entry of ["tinyformer.yaml", "recipes", "boards", "data"]) {
    await cp(join(packageRoot, entry), join(dir, entry), { recursive: true });
  }
  const workspaceFile = join(dir, "tinyformer.yaml");
  await writeFile(
    workspaceFile,
    `${await readFile(workspaceFile, "utf8")}${remoteSection(server, mode)}`,
  );
  await mkdir(join(dir, "keys"), { recursive: true });
  await writeFile(join(dir, "keys", "trusted.pub"), signer.publicPem);
  return dir;
}

function timeBuild(workspace: string, log: (line: string) => void): number {
  const started = process.hrtime.bigint();
  const output = execFileSync(process.execPath, [cli, "-C", workspace, "build"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  log(
    output
      .split("\n")
      .filter((line) => !line.startsWith("            "))
      .join("\n"),
  );
  return Math.round(seconds * 100) / 100;
}

async function headsPerSecond(server: NginxServer): Promise<number> {
  const objects = await readdir(join(server.root, "cache", "main", "cas")).catch(() => []);
  const targets = objects.length > 0 ? objects : ["0".repeat(64)];
  const started = process.hrtime.bigint();
  for (let i = 0; i < HEADS; i++) {
    await fetch(`${server.url}/main/cas/${targets[i % targets.length]}`, { method: "HEAD" });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return Math.round(HEADS / seconds);
}

/** The tiny recipe published to the `pr` namespace, then tampered with case by case. */
async function tamperingTrials(
  server: NginxServer,
  log: (line: string) => void,
): Promise<{ rejected: number; total: number }> {
  const writer = await tinyWorkspace(server, "read-write");
  execFileSync(process.execPath, [cli, "-C", writer.root, "build"], { stdio: "ignore" });
  const reference = await snapshotOutputs(writer);
  const acDir = join(server.root, "cache", "pr", "ac");
  const casDir = join(server.root, "cache", "pr", "cas");
  const envelopes = new Map<string, { file: string; text: string; envelope: StoredEnvelope }>();
  for (const file of await readdir(acDir)) {
    const text = await readFile(join(acDir, file), "utf8");
    const envelope = JSON.parse(text) as StoredEnvelope;
    envelopes.set(envelope.stage, { file: join(acDir, file), text, envelope });
  }
  const foreign = parsePrivateKey(stranger.privatePem, "stranger");
  type Tamper = { name: string; apply(): Promise<() => Promise<void>> };
  const cases: Tamper[] = [];
  for (const stage of ["quantize", "compile-target"]) {
    const found = envelopes.get(stage);
    if (found === undefined) throw new Error(`no ${stage} entry on the server`);
    const restoreEntry = () => writeFile(found.file, found.text);
    const outputs = (
      JSON.parse(found.envelope.entry) as { outputs: Record<string, { digest: string }> }
    ).outputs;
    const [firstOutput] = Object.values(outputs);
    const objectFile = join(casDir, firstOutput?.digest as string);
    const rewrite = async (envelope: StoredEnvelope) => {
      await writeFile(found.file, JSON.stringify(envelope));
      return restoreEntry;
    };
    cases.push(
      {
        name: `${stage}: object bytes replaced`,
        async apply() {
          const original = await readFile(objectFile);
          await writeFile(objectFile, Buffer.concat([original.subarray(1), Buffer.from([0])]));
          return () => writeFile(objectFile, original);
        },
      },
      {
        name: `${stage}: entry unsigned`,
        apply: () => rewrite({ ...found.envelope, signature: undefined }),
      },
      {
        name: `${stage}: entry signed by an untrusted key`,
        apply: () =>
          rewrite({
            ...found.envelope,
            keyId: foreign.id,
            signature: signEntry(foreign, stage, found.envelope.key, found.envelope.entry),
          }),
      },
      {
        name: `${stage}: signed outputs edited`,
        apply: () =>
          rewrite({
            ...found.envelope,
            entry: found.envelope.entry.replace(
              /"size":(\d+)/,
              (_, n) => `"size":${Number(n) + 1}`,
            ),
          }),
      },
      {
        name: `${stage}: a valid entry replayed under this key`,
        async apply() {
          const other = envelopes.get(stage === "quantize" ? "codegen" : "verify-host");
          if (other === undefined) throw new Error("no entry to replay");
          await writeFile(found.file, other.text);
          return restoreEntry;
        },
      },
    );
  }
  let rejected = 0;
  for (const tamper of cases) {
    const undo = await tamper.apply();
    const reader = await tinyWorkspace(server, "read-only");
    try {
      const run = spawnSync(process.execPath, [cli, "-C", reader.root, "build"], {
        encoding: "utf8",
      });
      const stage = tamper.name.split(":")[0] as string;
      const reported = new RegExp(`REJECTED\\s+${stage}: remote cache entry`).test(run.stderr);
      const differs = compareSnapshots(reference, await snapshotOutputs(reader));
      const ok = run.status === 0 && reported && differs === undefined;
      if (ok) rejected++;
      const problem =
        run.status !== 0
          ? `: the build failed: ${run.stderr.slice(-300)}`
          : !reported
            ? ": the build did not report a rejection"
            : differs === undefined
              ? ""
              : `: ${differs}`;
      log(`  ${ok ? "rejected" : "SERVED  "} ${tamper.name}${problem}`);
    } catch (error) {
      log(`  FAILED   ${tamper.name}: ${(error as Error).message}`);
    } finally {
      await undo();
      await reader.cleanup();
    }
  }
  await writer.cleanup();
  return { rejected, total: cases.length };
}

async function tinyWorkspace(
  server: NginxServer,
  mode: "read-only" | "read-write",
): Promise<TestWorkspace> {
  const ws = await createTestWorkspace(TINY_RECIPE);
  await ws.write("keys/trusted.pub", signer.publicPem);
  await ws.write(
    "tinyformer.yaml",
    `default_recipe: recipes/test.yaml\ncache_dir: .tinyformer/cache\noutput_dir: build\njobs: 2\n${remoteSection(server, mode, "pr")}`,
  );
  return ws;
}
