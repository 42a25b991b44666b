// Fixtures for the framework adapter tests: a provider whose issuer is the
// origin of a real server on 127.0.0.1, token requests, and the bad inputs
// that every adapter must reject without a 500.

import assert from "node:assert/strict";

import { createGuard, createProvider, memoryStorage } from "trustline";

/** Scopes of the client that each suite creates. */
export const CLIENT_SCOPES = ["read:orders", "write:orders"];

/** Audience that the guards require and the tokens request. */
export const AUDIENCE = "inventory";

/** The key of the provider's plain-values entry point, which the node:http adapters prefer. */
const HANDLE_VALUES = Symbol.for("trustline.provider.handleValues");

/**
 * The ways an adapter can reach a provider: through its plain-values entry
 * point (what `createProvider` returns has one), or through `handle` alone,
 * as for any object with a Web Fetch `handle`.
 */
export const PROVIDER_ENTRY_POINTS = ["plain values", "Web handle"];

/** Returns the provider as an adapter reaches it through `entryPoint`. */
export function providerThrough(provider, entryPoint) {
  return entryPoint === "Web handle" ? { handle: provider.handle } : provider;
}

/**
 * Returns an object with a `handle` that forwards to a provider set later. Fastify
 * needs its routes before it listens, and the provider's issuer needs the
 * port that listening picks. With `entryPoint` "plain values" it forwards the
 * plain-values entry point too.
 */
export function lateProvider(entryPoint = "Web handle") {
  let target = null;
  const forwarder = {
    handle: (request) => {
      assert.ok(target, "the test set the provider before sending requests");
      return target.handle(request);
    },
    set(provider) {
      target = provider;
    },
  };
  if (entryPoint === "plain values") {
    forwarder[HANDLE_VALUES] = (request) => {
      assert.ok(target, "the test set the provider before sending requests");
      return target[HANDLE_VALUES](request);
    };
  }
  return forwarder;
}

/**
 * Creates a provider for `issuer` on memory storage, a client with
 * `CLIENT_SCOPES`, and a guard for the same issuer and `AUDIENCE`.
 */
export async function setUpAuth(issuer, guardOptions = {}) {
  const provider = createProvider({ issuer, storage: memoryStorage() });
  const client = await provider.clients.create({ name: "order-processor", scopes: CLIENT_SCOPES });
  const guard = createGuard({ issuer, audience: AUDIENCE, ...guardOptions });
  return { provider, guard, client };
}

/** Builds the `client_secret_basic` header for a client (id and secret form-urlencoded, RFC 6749 §2.3.1). */
export function basicAuth({ clientId, clientSecret }) {
  const encode = (value) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString("base64")}`;
}

/** Sends a request and returns `{ status, headers, text, json }`; `json` is null for a non-JSON body. */
export async function send(url, init = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POSTs a form body to `url` with the client's Basic credentials. */
export function postForm(url, client, form, headers = {}) {
  return send(url, {
    method: "POST",
    headers: {
      authorization: basicAuth(client),
      "content-type": "application/x-www-form-urlencoded",
      ...headers,
    },
    body: typeof form === "string" ? form : new URLSearchParams(form).toString(),
  });
}

/** Requests a token for `AUDIENCE` and returns it; fails the test unless the provider issued one. */
export async function fetchToken(tokenUrl, client, form = {}) {
  const response = await postForm(tokenUrl, client, { grant_type: "client_credentials", audience: AUDIENCE, ...form });
  assert.equal(response.status, 200, `token request failed: ${response.text}`);
  assert.equal(response.json.token_type, "Bearer");
  return response.json.access_token;
}

/** Asserts an OAuth error response (`{ error, error_description }`) with this status and code. */
export function assertOAuthError(response, status, code) {
  assert.equal(response.status, status, `status of ${response.text}`);
  assert.equal(response.json?.error, code, `error code of ${response.text}`);
  assert.equal(typeof response.json.error_description, "string");
}

/** Asserts a guard's response to a failed check: this status and `{ error: code, message }`. */
export function assertGuardError(response, status, code) {
  assert.equal(response.status, status, `status of ${response.text}`);
  assert.equal(response.json?.error, code, `error code of ${response.text}`);
  assert.equal(typeof response.json.message, "string");
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
}

/**
 * `Authorization` header values that must verify, built around a valid
 * token: any letter case of the scheme, several spaces or a tab after it,
 * and whitespace around the token.
 */
export function acceptedAuthorizations(token) {
  return {
    "canonical": `Bearer ${token}`,
    "lowercase scheme": `bearer ${token}`,
    "uppercase scheme": `BEARER ${token}`,
    "several spaces": `Bearer    ${token}`,
    "tab separator": `Bearer\t${token}`,
    "trailing whitespace": `Bearer ${token}  `,
    "leading whitespace": `  Bearer ${token}`,
  };
}

/**
 * `Authorization` header values that must fail, with the expected status and
 * code. `undefined` means no header at all.
 */
export function rejectedAuthorizations(token) {
  return [
    { name: "no header", header: undefined, status: 401, code: "missing_token" },
    { name: "empty header", header: "", status: 401, code: "missing_token" },
    { name: "scheme only", header: "Bearer", status: 401, code: "missing_token" },
    { name: "scheme and spaces", header: "Bearer    ", status: 401, code: "missing_token" },
    { name: "Basic scheme", header: "Basic c3ZjOnNlY3JldA==", status: 401, code: "missing_token" },
    { name: "token without scheme", header: token, status: 401, code: "missing_token" },
    { name: "garbage token", header: "Bearer not-a-jwt", status: 401, code: "invalid_token" },
    { name: "token with inner space", header: `Bearer ${token.slice(0, 20)} ${token.slice(20)}`, status: 401, code: "invalid_token" },
    { name: "tampered token", header: `Bearer ${token.slice(0, -4)}AAAA`, status: 401, code: "invalid_token" },
  ];
}

/** Builds a form body of `bytes` bytes that is otherwise a valid token request. */
export function oversizedForm(bytes) {
  const prefix = "grant_type=client_credentials&padding=";
  return prefix + "x".repeat(bytes - prefix.length);
}

/** Closes a node:http server, cutting keep-alive connections. */
export function closeServer(server) {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts an Express app on 127.0.0.1 and returns `{ origin, close }`. */
export async function listenExpress(app) {
  const server = await new Promise((resolve, reject) => {
    const started = app.listen(0, "127.0.0.1", (error) => (error ? reject(error) : resolve(started)));
  });
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => closeServer(server) };
}
