/**
 * The remote cache against a real nginx (the repository's configuration):
 * hits and misses, HEAD before PUT, tampered objects, unsigned and foreign
 * entries, namespaces, read-only clients, concurrent publishers, outages,
 * and a fresh workspace that rebuilds the tiny recipe from a warm remote
 * without training.
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildProject } from "../../src/api/build.js";
import { describeRemoteCache } from "../../src/api/doctor.js";
import { openProject } from "../../src/api/project.js";
import { explainStage, projectStatus } from "../../src/api/status.js";
import { generateSigningKeyPair } from "../../src/graph-runner/entry-signing.js";
import type { BuildEvent } from "../../src/graph-runner/events.js";
import type { FakeStageSpec } from "../helpers/fake-stages.js";
import { type NginxServer, needsNginx, startNginx } from "../helpers/nginx.js";
import { createHarness } from "../helpers/pipeline-harness.js";
import { snapshotOutputs } from "../helpers/reliability.js";
import { remoteCacheYaml, type StoredEnvelope } from "../helpers/remote-cache-settings.js";
import { createTestWorkspace, type TestWorkspace, TINY_RECIPE } from "../helpers/workspace.js";

const CHAIN: FakeStageSpec[] = [
  { name: "a", configKeys: ["seed"], inputs: ["inputs/a.txt"] },
  { name: "b", upstream: ["a"], configKeys: ["quantization.calibration_images"] },
  { name: "c", upstream: ["b"], output: "constant" },
];

const signer = generateSigningKeyPair();
const stranger = generateSigningKeyPair();
let envCounter = 0;

interface ClientOptions {
  url: string;
  namespace?: string;
  mode?: "read-only" | "read-write";
  credentials?: string;
  /** Signs uploads with this private key (default: the trusted signer's). */
  signingKey?: string | null;
  timeoutMs?: number;
}

/** A workspace whose tinyformer.yaml points at the remote; secrets go through its own env vars. */
async function clientWorkspace(options: ClientOptions, recipe?: string): Promise<TestWorkspace> {
  const ws = await createTestWorkspace(recipe);
  const id = ++envCounter;
  const auth = `TF_TEST_AUTH_${id}`;
  const signing = `TF_TEST_SIGNING_${id}`;
  if (options.credentials !== undefined) process.env[auth] = options.credentials;
  const key = options.signingKey === undefined ? signer.privatePem : options.signingKey;
  if (key !== null) process.env[signing] = key;
  await ws.write("keys/trusted.pub", signer.publicPem);
  await ws.write(
    "tinyformer.yaml",
    [
      "default_recipe: recipes/test.yaml",
      "cache_dir: .tinyformer/cache",
      "output_dir: build",
      "jobs: 2",
      remoteCacheYaml({
        url: options.url,
        namespace: options.namespace ?? "main",
        mode: options.mode ?? "read-only",
        timeoutMs: options.timeoutMs ?? 5000,
        credentialsEnv: auth,
        signingKeyEnv: signing,
      }),
    ].join("\n"),
  );
  return ws;
}

const eventsOf = (events: BuildEvent[], type: BuildEvent["type"]) =>
  events.filter((event) => event.type === type);

describe("remote cache against nginx", { skip: needsNginx }, () => {
  let server: NginxServer;
  const workspaces: TestWorkspace[] = [];
  const track = (ws: TestWorkspace) => {
    workspaces.push(ws);
    return ws;
  };
  before(async () => {
    server = await startNginx();
  });
  after(async () => {
    await server?.stop();
    for (const ws of workspaces) await ws.cleanup();
  });

  async function entryFiles(namespace: string): Promise<string[]> {
    return readdir(join(server.root, "cache", namespace, "ac")).catch(() => []);
  }

  test("a writer publishes every stage; a fresh reader takes them all and runs nothing", async () => {
    const writer = track(
      await clientWorkspace({
        url: server.url,
        mode: "read-write",
        credentials: server.credentials.ci,
        namespace: "t1",
      }),
    );
    // t1 is not a namespace the server lets anyone write: use main for the real thing.
    const refused = await createHarness(writer, CHAIN).build();
    assert.equal(refused.result.ok, true, "a refused upload never fails the build");
    assert.equal(eventsOf(refused.events, "remote-warning").length, 1);

    const mainWriter = track(
      await clientWorkspace({
        url: server.url,
        mode: "read-write",
        credentials: server.credentials.ci,
      }),
    );
    const first = await createHarness(mainWriter, CHAIN).build();
    assert.deepEqual(first.ran, ["a", "b", "c"]);
    assert.equal(eventsOf(first.events, "stage-uploaded").length, 3);
    assert.equal((await entryFiles("main")).length, 3);

    const reader = track(await clientWorkspace({ url: server.url }));
    const second = await createHarness(reader, CHAIN).build();
    assert.deepEqual(second.ran, [], "everything came from the remote");
    assert.equal(eventsOf(second.events, "stage-downloaded").length, 3);
    assert.deepEqual(await snapshotOutputs(reader), await snapshotOutputs(mainWriter));
    // Stored locally: the next build is a local hit, with no remote traffic for entries.
    const before = (await server.requests()).length;
    const third = await createHarness(reader, CHAIN).build();
    assert.deepEqual(Object.values(third.result.outcomes), ["cached", "cached", "cached"]);
    assert.equal((await server.requests()).length, before);
  });

  test("status, why and doctor say what the remote cache has and whether it can be written", async () => {
    const writer = track(
      await clientWorkspace({
        url: server.url,
        mode: "read-write",
        credentials: server.credentials.ci,
      }),
    );
    await createHarness(writer, CHAIN).build({ overrides: ["seed=61"] });
    const reader = track(await clientWorkspace({ url: server.url }));
    const project = await openProject({
      cwd: reader.root,
      createStages: createHarness(reader, CHAIN).createStages,
      overrides: ["seed=61"],
    });
    const status = await projectStatus(project);
    assert.deepEqual(
      status.stages.map((stage) => stage.reason),
      Array(3).fill("in the remote cache: will be downloaded, not run"),
    );
    const why = await explainStage(project, "c");
    assert.match(
      why.lines.at(-1) ?? "",
      /the remote cache has c's result .*downloads it instead of running it/,
    );

    const names = (checks: { name: string; ok: boolean }[]) =>
      checks.map((check) => `${check.name} ${check.ok ? "ok" : "FAILED"}`);
    assert.deepEqual(names(await describeRemoteCache(writer.root)), [
      "remote cache ok",
      "remote writes ok",
      "signing key ok",
      "trusted keys ok",
    ]);
    const prOnMain = track(
      await clientWorkspace({
        url: server.url,
        mode: "read-write",
        credentials: server.credentials.pr,
        signingKey: stranger.privatePem,
      }),
    );
    const checks = await describeRemoteCache(prOnMain.root);
    assert.deepEqual(names(checks), [
      "remote cache ok",
      "remote writes FAILED",
      "signing key FAILED",
      "trusted keys ok",
    ]);
    assert.match(checks[1]?.detail ?? "", /HTTP 401/);
  });

  test("objects the server has are not uploaded again (HEAD first); a read-only client never writes", async () => {
    const writer = track(
      await clientWorkspace({
        url: server.url,
        mode: "read-write",
        credentials: server.credentials.ci,
        namespace: "pr",
      }),
    );
    const harness = createHarness(writer, CHAIN);
    await harness.build({ overrides: ["seed=11"] });
    const puts = async () =>
      (await server.requests()).filter((line) => line.startsWith("PUT /cache/pr/cas/"));
    const afterFirst = (await puts()).length;
    assert.equal(afterFirst, 3);
    // b reruns with a new key; c's output is the same constant object.
    await harness.build({ overrides: ["seed=11", "quantization.calibration_images=32"] });
    const newPuts = (await puts()).slice(afterFirst);
    assert.equal(newPuts.length, 1, `only b's new object is uploaded: ${newPuts.join(", ")}`);

    const reader = track(await clientWorkspace({ url: server.url, namespace: "pr" }));
    const before = (await server.requests()).filter((line) => line.startsWith("PUT")).length;
    await createHarness(reader, CHAIN).build({ overrides: ["seed=12"] });
    const after = (await server.requests()).filter((line) => line.startsWith("PUT")).length;
    assert.equal(after, before, "the read-only client computed seed=12 and uploaded nothing");
  });

  test("a pull-request client cannot write the main namespace", async () => {
    const before = await entryFiles("main");
    const prOnMain = track(
      await clientWorkspace({
        url: server.url,
        mode: "read-write",
        credentials: server.credentials.pr,
      }),
    );
    const run = await createHarness(prOnMain, CHAIN).build({ overrides: ["seed=21"] });
    assert.equal(run.result.ok, true);
    assert.match(JSON.stringify(eventsOf(run.events, "remote-warning")), /HTTP 401/);
    assert.deepEqual(await entryFiles("main"), before);
  });

  test("tampered objects, unsigned entries and entries signed by an unknown key are rejected; the stage is computed locally", async () => {
    const writer = track(
      await clientWorkspace({
        url: server.url,
        mode: "read-write",
        credentials: server.credentials.ci,
      }),
    );
    const existing = new Set(await entryFiles("main"));
    await createHarness(writer, CHAIN).build({ overrides: ["seed=31"] });
    const added = (await entryFiles("main")).filter((file) => !existing.has(file));
    const entryOf = (stage: string) => findEntry(server, "main", added, stage);

    // a: its object's bytes replaced on the server.
    const a = await entryOf("a");
    const objectA = Object.values(a.entry.outputs)[0]?.digest as string;
    await writeFile(join(server.root, "cache", "main", "cas", objectA), "not what was built\n");
    // b: the signature removed.
    const b = await entryOf("b");
    await writeFile(b.file, JSON.stringify({ ...b.envelope, signature: undefined }));
    // c: signed again by a key the workspace does not trust.
    const c = await entryOf("c");
    const { signEntry, parsePrivateKey } = await import("../../src/graph-runner/entry-signing.js");
    const foreign = parsePrivateKey(stranger.privatePem, "stranger");
    await writeFile(
      c.file,
      JSON.stringify({
        ...c.envelope,
        keyId: foreign.id,
        signature: signEntry(foreign, "c", c.envelope.key, c.envelope.entry),
      }),
    );

    const reader = track(await clientWorkspace({ url: server.url }));
    const run = await createHarness(reader, CHAIN).build({ overrides: ["seed=31"] });
    assert.equal(run.result.ok, true);
    assert.deepEqual(run.ran, ["a", "b", "c"]);
    const why = eventsOf(run.events, "remote-rejected").map((event) =>
      event.type === "remote-rejected" ? `${event.stage}: ${event.why}` : "",
    );
    assert.equal(why.length, 3, why.join("\n"));
    assert.match(why[0] as string, /^a: .*another digest or size/);
    assert.match(why[1] as string, /^b: the entry is not signed/);
    assert.match(
      why[2] as string,
      /^c: the entry is signed by key [0-9a-f]{16}, which this workspace does not trust/,
    );
    assert.equal(
      await readFile(join(reader.root, "build/test/a/result.txt"), "utf8"),
      await readFile(join(writer.root, "build/test/a/result.txt"), "utf8"),
    );
  });

  test("two writers publishing the same keys at once converge on one valid entry per key", async () => {
    const [one, two] = [
      track(
        await clientWorkspace({
          url: server.url,
          mode: "read-write",
          credentials: server.credentials.ci,
        }),
      ),
      track(
        await clientWorkspace({
          url: server.url,
          mode: "read-write",
          credentials: server.credentials.ci,
        }),
      ),
    ];
    const [first, second] = await Promise.all([
      createHarness(one, CHAIN).build({ overrides: ["seed=41"] }),
      createHarness(two, CHAIN).build({ overrides: ["seed=41"] }),
    ]);
    assert.equal(first.result.ok && second.result.ok, true);
    const reader = track(await clientWorkspace({ url: server.url }));
    const run = await createHarness(reader, CHAIN).build({ overrides: ["seed=41"] });
    assert.deepEqual(run.ran, []);
    assert.equal(eventsOf(run.events, "remote-rejected").length, 0);
  });

  test("a remote that is down or never answers: the build completes locally with one warning", async () => {
    const silent: Server = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      for (const url of [`http://127.0.0.1:${port}/cache`, "http://127.0.0.1:9/cache"]) {
        const ws = track(
          await clientWorkspace({ url, mode: "read-write", credentials: "x:y", timeoutMs: 300 }),
        );
        const started = Date.now();
        const run = await createHarness(ws, CHAIN).build({ overrides: ["seed=51"] });
        assert.equal(run.result.ok, true);
        assert.deepEqual(run.ran, ["a", "b", "c"]);
        const warnings = eventsOf(run.events, "remote-warning");
        assert.equal(warnings.length, 1, `${url}: ${JSON.stringify(warnings)}`);
        assert.ok(
          Date.now() - started < 5000,
          `backed off instead of waiting on every request (${url})`,
        );
      }
    } finally {
      silent.close();
    }
  });

  test("a fresh workspace with a warm remote rebuilds the tiny recipe without training", async () => {
    const writer = track(
      await clientWorkspace(
        { url: server.url, mode: "read-write", credentials: server.credentials.ci },
        TINY_RECIPE,
      ),
    );
    const build = async (ws: TestWorkspace) => {
      const events: BuildEvent[] = [];
      const result = await buildProject(await openProject({ cwd: ws.root }), {
        onEvent: (event) => events.push(event),
      });
      return { result, events };
    };
    const cold = await build(writer);
    assert.equal(cold.result.ok, true, JSON.stringify(eventsOf(cold.events, "stage-failed")));
    const fresh = track(await clientWorkspace({ url: server.url }, TINY_RECIPE));
    const warm = await build(fresh);
    assert.equal(warm.result.ok, true);
    assert.deepEqual(eventsOf(warm.events, "stage-start"), [], "no stage ran, training included");
    assert.equal(eventsOf(warm.events, "stage-downloaded").length, 12);
    assert.deepEqual(await snapshotOutputs(fresh), await snapshotOutputs(writer));
  });
});

/** The entry of `stage` among the given entry files of a namespace. */
async function findEntry(server: NginxServer, namespace: string, files: string[], stage: string) {
  const dir = join(server.root, "cache", namespace, "ac");
  for (const file of files) {
    const envelope = JSON.parse(await readFile(join(dir, file), "utf8")) as StoredEnvelope;
    if (envelope.stage !== stage) continue;
    const entry = JSON.parse(envelope.entry) as { outputs: Record<string, { digest: string }> };
    return { file: join(dir, file), envelope, entry };
  }
  throw new Error(`no new ${stage} entry on the server`);
}
