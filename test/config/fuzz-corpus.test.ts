/**
 * A seeded corpus of hostile recipes (test/helpers/config-fuzz.ts), each
 * validated the way `tinyformer validate` does it: through the API and the
 * command line. Whatever the text, the outcome is acceptance or problems
 * that each point at a file, line and column; never an exception, an
 * engine error dressed as a problem, or a problem without a place.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { validateFiles } from "../../src/api/validate.js";
import { runCli } from "../../src/cli/main.js";
import {
  classifyCliRun,
  classifyValidation,
  mutatedConfigs,
  type Outcome,
  type OutcomeKind,
} from "../helpers/config-fuzz.js";
import { createTestWorkspace, type TestWorkspace } from "../helpers/workspace.js";

const SEED = 20240611;
const CASES = 240;

describe("fuzz corpus: every hostile recipe is accepted or rejected with a position", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await createTestWorkspace();
  });
  after(async () => {
    await ws.cleanup();
  });

  test("the corpus is deterministic and large enough", () => {
    const corpus = mutatedConfigs(SEED, CASES);
    assert.equal(corpus.length, CASES);
    assert.deepEqual(mutatedConfigs(SEED, CASES), corpus);
    assert.notDeepEqual(mutatedConfigs(SEED + 1, CASES), corpus);
    assert.equal(new Set(corpus.map((c) => c.text)).size > CASES * 0.9, true);
  });

  test(`${CASES} mutated recipes, through the API and the command line`, async () => {
    const file = "recipes/fuzz.yaml";
    const counts: Record<OutcomeKind, number> = {
      accepted: 0,
      "positioned-rejection": 0,
      "unpositioned-rejection": 0,
      crash: 0,
    };
    const failures: string[] = [];
    for (const config of mutatedConfigs(SEED, CASES)) {
      await ws.write(file, config.text);
      const api: Outcome = await validateFiles([file], ws.root).then(
        (result) => classifyValidation({ result }),
        (error: unknown) => classifyValidation({ error }),
      );
      const err: string[] = [];
      const code = await runCli(["-C", ws.root, "validate", file], {
        output: { out: () => undefined, err: (line) => err.push(line) },
      });
      const cli = classifyCliRun({ code, err });
      counts[api.kind]++;
      if (api.kind !== "accepted" && api.kind !== "positioned-rejection") {
        failures.push(`${config.name}\n  API: ${api.kind}: ${api.detail}`);
      } else if (cli.kind !== api.kind) {
        failures.push(`${config.name}\n  API: ${api.kind}, CLI: ${cli.kind}: ${cli.detail}`);
      }
    }
    assert.deepEqual(failures, []);
    // The corpus exercises both sides: some mutations leave a valid recipe.
    assert.ok(counts["positioned-rejection"] > CASES / 2, JSON.stringify(counts));
    assert.ok(counts.accepted > 0, JSON.stringify(counts));
  });
});
