// The Node.js side of the cross-language test (test_cross_language.py).
//
//   node node-peer.mjs provider
//     Serves a Node provider on 127.0.0.1, creates a client, and prints one JSON
//     line { issuer, clientId, clientSecret }. Serves until standard input closes.
//
//   node node-peer.mjs verify ISSUER [AUDIENCE]
//     Reads tokens from standard input, one a line, verifies each with a Node guard,
//     and prints one JSON line per token: { ok: true, identity } or
//     { ok: false, code, status, message }.

import http from "node:http";
import readline from "node:readline";

import { AuthError, createGuard, createProvider, memoryStorage } from "trustline";

async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function serveProvider() {
  let provider;
  const server = http.createServer(async (request, response) => {
    const body = await readBody(request);
    const webRequest = new Request(`${issuer}${request.url}`, {
      method: request.method,
      headers: request.headers,
      body: ["GET", "HEAD"].includes(request.method) ? undefined : body,
    });
    const webResponse = await provider.handle(webRequest);
    response.writeHead(webResponse.status, Object.fromEntries(webResponse.headers));
    response.end(Buffer.from(await webResponse.arrayBuffer()));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  provider = createProvider({ issuer, storage: memoryStorage(), env: "production" });
  const { clientId, clientSecret } = await provider.clients.create({
    name: "node-caller",
    scopes: ["read:orders", "write:orders"],
  });
  process.stdout.write(`${JSON.stringify({ issuer, clientId, clientSecret })}\n`);

  process.stdin.resume();
  process.stdin.on("end", () => server.close(() => process.exit(0)));
}

async function verifyTokens(issuer, audience) {
  const guard = createGuard({ issuer, ...(audience ? { audience } : {}) });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const token of lines) {
    let result;
    try {
      result = { ok: true, identity: await guard.verify(token) };
    } catch (error) {
      if (!(error instanceof AuthError)) {
        throw error;
      }
      result = { ok: false, code: error.code, status: error.status, message: error.message };
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "provider") {
  await serveProvider();
} else if (mode === "verify") {
  await verifyTokens(args[0], args[1]);
} else {
  console.error(`unknown mode ${JSON.stringify(mode)}: use "provider" or "verify ISSUER [AUDIENCE]"`);
  process.exit(2);
}
