// The frameworks are optional peer dependencies: in a project that has
// none of them installed, every entry point except trustline/frameworks/hono
// loads and works, on Node.js and on Bun. The project is a temporary
// directory with a copy of the built package in node_modules, so that module
// resolution cannot reach this repository's node_modules.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BUN = path.join(REPO_ROOT, "node_modules", ".bin", "bun");
const FRAMEWORKS = ["express", "fastify", "hono", "@hono/node-server", "@fastify/formbody"];

// Loads each entry point, uses what needs no framework, and reports the
// result as JSON on stdout.
const CHECK_ESM = `
import { createGuard, createProvider, memoryStorage, AuthError } from "trustline";
import { createClient } from "trustline/client";
import * as express from "trustline/frameworks/express";
import * as fastify from "trustline/frameworks/fastify";
import * as fetchEntry from "trustline/frameworks/fetch";

// "trustline" is in the list to show that the check can find a package.
const result = { frameworksResolvable: [] };
for (const name of ["trustline", ...${JSON.stringify(FRAMEWORKS)}]) {
  try {
    await import.meta.resolve(name);
    result.frameworksResolvable.push(name);
  } catch {}
}

const provider = createProvider({ issuer: "https://auth.peer-tests.trustline.test", storage: memoryStorage() });
const guard = createGuard({ issuer: "https://auth.peer-tests.trustline.test" });
result.verify = await guard.verify("").catch((error) => error instanceof AuthError && error.code);
result.client = typeof createClient;
result.express = [typeof express.createExpressProvider(provider), typeof express.createExpressGuard(guard)];
result.fastify = [typeof fastify.createFastifyProvider(provider), typeof fastify.createFastifyGuard(guard)];
const protect = fetchEntry.createFetchGuard(guard);
const response = await protect(() => new Response("ok"))(new Request("http://svc.test/"));
result.fetch = response.status;
const jwks = await provider.handle(new Request("https://auth.peer-tests.trustline.test/.well-known/jwks.json"));
result.jwks = jwks.status;

try {
  await import("trustline/frameworks/hono");
  result.hono = "loaded";
} catch (error) {
  result.hono = String(error.message ?? error);
}
console.log(JSON.stringify(result));
`;

const CHECK_CJS = `
const { createGuard, createProvider, memoryStorage } = require("trustline");
const { createClient } = require("trustline/client");
const express = require("trustline/frameworks/express");
const fastify = require("trustline/frameworks/fastify");
const fetchEntry = require("trustline/frameworks/fetch");
const result = {
  entries: [typeof createGuard, typeof createProvider, typeof memoryStorage, typeof createClient,
    typeof express.createExpressGuard, typeof fastify.createFastifyGuard, typeof fetchEntry.createFetchGuard],
};
try {
  require("trustline/frameworks/hono");
  result.hono = "loaded";
} catch (error) {
  result.hono = String(error.message);
}
console.log(JSON.stringify(result));
`;

let projectDir;

/** Writes a project with only trustline installed, copied from the build in dist/. */
function createProject() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trustline-no-frameworks-"));
  const packageDir = path.join(dir, "node_modules", "trustline");
  const nativeDir = path.join(packageDir, "bindings", "node", "native");
  fs.mkdirSync(nativeDir, { recursive: true });

  fs.cpSync(path.join(REPO_ROOT, "package.json"), path.join(packageDir, "package.json"));
  fs.cpSync(path.join(REPO_ROOT, "dist"), path.join(packageDir, "dist"), { recursive: true });
  const builtNativeDir = path.join(REPO_ROOT, "bindings", "node", "native");
  for (const file of fs.readdirSync(builtNativeDir).filter((name) => name.endsWith(".node"))) {
    fs.symlinkSync(path.join(builtNativeDir, file), path.join(nativeDir, file));
  }

  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "no-frameworks", private: true, type: "module" }));
  fs.writeFileSync(path.join(dir, "check.mjs"), CHECK_ESM);
  fs.writeFileSync(path.join(dir, "check.cjs"), CHECK_CJS);
  return dir;
}

/** Runs a check script in the project and returns its JSON output. */
function runCheck(command, script) {
  const run = spawnSync(command, [script], { cwd: projectDir, encoding: "utf8", timeout: 60_000 });
  assert.equal(run.status, 0, `${command} ${script} failed:\n${run.stderr}\n${run.stdout}`);
  const lastLine = run.stdout.trim().split("\n").at(-1);
  return JSON.parse(lastLine);
}

describe("project without frameworks", () => {
  before(() => {
    projectDir = createProject();
  });
  after(() => fs.rmSync(projectDir, { recursive: true, force: true }));

  test("ESM entry points on Node.js", () => {
    const result = runCheck(process.execPath, "check.mjs");

    assert.deepEqual(result.frameworksResolvable, ["trustline"], "no framework is installed in the project");
    assert.equal(result.verify, "missing_token");
    assert.equal(result.client, "function");
    assert.deepEqual(result.express, ["function", "function"]);
    assert.deepEqual(result.fastify, ["function", "function"]);
    assert.equal(result.fetch, 401);
    assert.equal(result.jwks, 200);
    assert.match(result.hono, /Cannot find package 'hono'/);
  });

  test("CommonJS entry points on Node.js", () => {
    const result = runCheck(process.execPath, "check.cjs");

    assert.deepEqual(result.entries, Array(7).fill("function"));
    assert.match(result.hono, /Cannot find module 'hono'/);
  });

  test("ESM entry points on Bun", { skip: !fs.existsSync(BUN) && "the bun npm package is not installed" }, () => {
    const result = runCheck(BUN, "check.mjs");

    assert.deepEqual(result.frameworksResolvable, ["trustline"]);
    assert.equal(result.verify, "missing_token");
    assert.deepEqual(result.express, ["function", "function"]);
    assert.equal(result.fetch, 401);
    assert.equal(result.jwks, 200);
    assert.match(result.hono, /hono/);
  });
});
