// Timing helpers, local servers and token fixtures shared by the scenarios.

import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The addon itself, for its raw crypto rates (not part of the public API). */
export function loadAddon() {
  const require = createRequire(import.meta.url);
  return require(path.join(repoRoot, "bindings/node/native/trustline.linux-x64-gnu.node"));
}

/** Runs `operation` (sync or async) one call at a time for `seconds`; returns calls per second. */
export async function sequentialRate(operation, seconds) {
  const warmupEnd = performance.now() + Math.min(200, seconds * 100);
  while (performance.now() < warmupEnd) {
    await operation();
  }

  let calls = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 32; i++) {
      await operation();
    }
    calls += 32;
  }
  return (calls * 1000) / (performance.now() - started);
}

/** Keeps `concurrency` calls in flight for `seconds`; returns calls per second. */
export async function concurrentRate(operation, seconds, concurrency) {
  let calls = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      await operation();
      calls += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (calls * 1000) / (performance.now() - started);
}

/**
 * Times `operation(input)` over inputs made by `makeInput`, untimed, in batches of
 * `batch`, with `concurrency` calls in flight, for about `seconds` of timed work;
 * returns calls per second. Web `Request` objects are single-use and take about as
 * long to build as a token takes to sign, so they are built outside the timing.
 */
export async function preparedRate(operation, makeInput, { seconds, concurrency = 1, batch = 256 }) {
  const run = async (inputs) => {
    let next = 0;
    const worker = async () => {
      while (next < inputs.length) {
        await operation(inputs[next++]);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return performance.now() - started;
  };

  await run(Array.from({ length: Math.min(batch, 64) }, makeInput));
  let calls = 0;
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    const inputs = Array.from({ length: batch }, makeInput);
    elapsed += await run(inputs);
    calls += inputs.length;
  }
  return (calls * 1000) / elapsed;
}

/**
 * Calls each operation once per item, alternating between the operations every
 * `chunk` items and rotating which goes first, so that a burst of noise on the
 * shared machine slows them alike. Returns items per second for each, by name.
 * A `batches` entry takes a count, does that much work itself, and returns the
 * nanoseconds per item it measured (a Rust loop, with no JavaScript in between).
 */
export async function interleavedRates(operations, items, { batches = {}, chunk = 500 } = {}) {
  const names = [...Object.keys(operations), ...Object.keys(batches)];
  const elapsed = Object.fromEntries(names.map((name) => [name, 0]));
  for (let start = 0; start < items.length; start += chunk) {
    const slice = items.slice(start, start + chunk);
    const first = (start / chunk) % names.length;
    for (const name of [...names.slice(first), ...names.slice(0, first)]) {
      if (name in batches) {
        elapsed[name] += (batches[name](slice.length) * slice.length) / 1e6;
        continue;
      }
      const operation = operations[name];
      const started = performance.now();
      for (const item of slice) {
        await operation(item);
      }
      elapsed[name] += performance.now() - started;
    }
  }
  return Object.fromEntries(Object.entries(elapsed).map(([name, ms]) => [name, (items.length * 1000) / ms]));
}

/** Calls `operation(item)` once per item in order; returns items per second. */
export async function listRate(operation, items) {
  const started = performance.now();
  for (const item of items) {
    await operation(item);
  }
  return (items.length * 1000) / (performance.now() - started);
}

/** Starts a node:http server on 127.0.0.1 for a Web fetch handler; counts requests. */
export async function serve(handler) {
  const state = { requests: 0, handler };
  const server = http.createServer(async (req, res) => {
    state.requests += 1;
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const request = new Request(`http://127.0.0.1:${server.address().port}${req.url}`, {
      method: req.method,
      headers: req.headers,
      body: body.length > 0 ? body : undefined,
    });
    const response = await state.handler(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.origin = `http://127.0.0.1:${server.address().port}`;
  state.close = () => new Promise((resolve) => server.close(resolve));
  return state;
}

/** Builds the token request a client sends, as a Web `Request`. */
export function tokenRequest(tokenUrl, clientId, clientSecret) {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString("base64");
  return () =>
    new Request(tokenUrl, {
      method: "POST",
      headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
}

/** Issues `count` tokens through `provider.handle`. */
export async function issueTokens(provider, makeRequest, count) {
  const tokens = new Array(count);
  for (let i = 0; i < count; i++) {
    const response = await provider.handle(makeRequest());
    if (response.status !== 200) {
      throw new Error(`token request failed with HTTP ${response.status}: ${await response.text()}`);
    }
    tokens[i] = (await response.json()).access_token;
  }
  return tokens;
}

/** Resident set size in bytes after a full garbage collection (needs --expose-gc). */
export function settledRss() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().rss;
}
