// The runnable examples under examples/: each one starts its service on
// 127.0.0.1, calls it once as a client with `--check`, and exits with status 0
// when a read succeeds and a write without the scope is rejected.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BUN = path.join(REPO_ROOT, "node_modules", ".bin", "bun");
const bunMissing = !fs.existsSync(BUN) && "the bun npm package is not installed";

/** Returns true when `port` on 127.0.0.1 can be listened on now. */
function isFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Finds a port on 127.0.0.1 that is free now, and whose next `extra` ports are free too. */
async function freePort(extra = 0) {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const ports = Array.from({ length: extra + 1 }, (_, index) => port + index);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) {
      return port;
    }
  }
  throw new Error("found no free port on 127.0.0.1 in 20 attempts");
}

/** Runs an example with `--check` and returns its output; fails the test on a non-zero exit. */
async function runExample(command, file, extraPorts = 0) {
  const port = await freePort(extraPorts);
  const run = spawnSync(command, [path.join(REPO_ROOT, file), "--check"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, PORT: String(port) },
    timeout: 60_000,
  });
  assert.equal(run.status, 0, `${file} exited with ${run.status}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** Asserts the two calls that every example makes: a read allowed, a write without scope rejected. */
function assertCalls(output) {
  assert.match(output, /GET \S*orders -> 200/);
  assert.match(output, /POST \S*orders -> 403/);
  assert.match(output, /invalid_scope/);
}

test("express example", async () => {
  assertCalls(await runExample(process.execPath, "examples/express/server.mjs"));
});

test("fastify example", async () => {
  assertCalls(await runExample(process.execPath, "examples/fastify/server.mjs"));
});

test("hono example on node", async () => {
  assertCalls(await runExample(process.execPath, "examples/hono/server.mjs"));
});

test("hono example on bun", { skip: bunMissing }, async () => {
  assertCalls(await runExample(BUN, "examples/hono/server.mjs"));
});

test("bun example", { skip: bunMissing }, async () => {
  assertCalls(await runExample(BUN, "examples/bun/server.ts", 1));
});
