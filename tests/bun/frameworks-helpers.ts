// Fixtures for the Bun framework tests: a provider behind Bun.serve, token
// requests and response reading. The Node.js tests in tests/frameworks/ have
// their own helpers.

import { expect } from "bun:test";

import { createGuard, createProvider, memoryStorage } from "trustline";

export type Server = ReturnType<typeof Bun.serve>;

/** Audience that the guards require and the tokens request. */
export const AUDIENCE = "inventory";

/**
 * Serves `fetch(provider)` with Bun.serve on 127.0.0.1, where the provider's
 * issuer is the server's own origin plus `path`. Also creates a client with
 * "read:orders" and "write:orders", and a guard for the issuer.
 */
export async function serveWithProvider(
  path: string,
  fetchFor: (provider: ReturnType<typeof createProvider>) => (request: Request, server: Server) => Response | Promise<Response>,
) {
  // The port is known only once the server listens, and the issuer needs it.
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(null, { status: 503 }) });
  const origin = `http://127.0.0.1:${server.port}`;
  const issuer = origin + path;
  const provider = createProvider({ issuer, storage: memoryStorage() });
  server.reload({ fetch: fetchFor(provider) });

  const client = await provider.clients.create({ name: "order-processor", scopes: ["read:orders", "write:orders"] });
  const guard = createGuard({ issuer, audience: AUDIENCE });
  return { server, origin, issuer, provider, client, guard, tokenUrl: `${issuer}/token`, jwksUrl: `${issuer}/.well-known/jwks.json` };
}

/** Builds the `client_secret_basic` header (id and secret form-urlencoded before base64). */
export function basicAuth(client: { clientId: string; clientSecret: string }): string {
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${btoa(`${encode(client.clientId)}:${encode(client.clientSecret)}`)}`;
}

/** Sends a request and returns its status, headers and JSON body (null when not JSON). */
export async function send(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: Record<string, any> | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POSTs a form body with the client's Basic credentials. */
export function postForm(url: string, client: { clientId: string; clientSecret: string }, body: string) {
  return send(url, {
    method: "POST",
    headers: { authorization: basicAuth(client), "content-type": "application/x-www-form-urlencoded" },
    body,
  });
}

/** Requests a token for `AUDIENCE`, optionally narrowed to `scope`. */
export async function fetchToken(tokenUrl: string, client: { clientId: string; clientSecret: string }, scope?: string) {
  const form = new URLSearchParams({ grant_type: "client_credentials", audience: AUDIENCE });
  if (scope) form.set("scope", scope);
  const response = await postForm(tokenUrl, client, form.toString());
  expect(response.status).toBe(200);
  return response.json!.access_token as string;
}

/** Builds a form body of `bytes` bytes that is otherwise a valid token request. */
export function oversizedForm(bytes: number): string {
  const prefix = "grant_type=client_credentials&padding=";
  return prefix + "x".repeat(bytes - prefix.length);
}

/** `Authorization` header values that must verify, built around a valid token. */
export function acceptedAuthorizations(token: string): string[] {
  return [`Bearer ${token}`, `bearer ${token}`, `BEARER   ${token}`, `Bearer\t${token}`, `  Bearer ${token}  `];
}

/** `Authorization` header values that must fail, with the expected status and code. */
export function rejectedAuthorizations(token: string) {
  return [
    { header: undefined, status: 401, code: "missing_token" },
    { header: "Bearer", status: 401, code: "missing_token" },
    { header: "Basic c3ZjOnNlY3JldA==", status: 401, code: "missing_token" },
    { header: token, status: 401, code: "missing_token" },
    { header: "Bearer not-a-jwt", status: 401, code: "invalid_token" },
    { header: `Bearer ${token.slice(0, -4)}AAAA`, status: 401, code: "invalid_token" },
  ];
}
