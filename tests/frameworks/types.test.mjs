// The adapters' TypeScript declarations, checked by compiling the programs in
// tests/frameworks/types/ against the built dist/*.d.ts: request.trustline in
// Express and Fastify, c.get("trustline") in Hono, and the fetch handler.
// Each file also has `@ts-expect-error` lines, so declarations that degrade
// to `any` fail the check too.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

test("adapter declarations type-check", () => {
  const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const project = path.join(REPO_ROOT, "tests", "frameworks", "types", "tsconfig.json");

  const run = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8", timeout: 120_000 });

  assert.equal(run.status, 0, `tsc reported:\n${run.stdout}${run.stderr}`);
});
