// The plain Web path on Bun: `Bun.serve({ fetch: provider.handle })` with the
// handler detached from its object, guard.verify() and createFetchGuard
// inside a Bun fetch handler, and bad input that must never produce a 500.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";

import { AuthError } from "trustline";
import { createFetchGuard } from "trustline/frameworks/fetch";

import {
  acceptedAuthorizations,
  basicAuth,
  fetchToken,
  oversizedForm,
  postForm,
  rejectedAuthorizations,
  send,
  serveWithProvider,
  type Server,
} from "./frameworks-helpers";

describe("Bun.serve with provider.handle", () => {
  let auth: Awaited<ReturnType<typeof serveWithProvider>>;

  beforeAll(async () => {
    auth = await serveWithProvider("/auth", (provider) => provider.handle);
  });
  afterAll(() => auth.server.stop(true));

  test("issues tokens and serves the JWKS", async () => {
    const token = await fetchToken(auth.tokenUrl, auth.client);
    const jwks = await send(auth.jwksUrl);

    const identity = await auth.guard.verify(token);
    expect(identity.clientId).toBe(auth.client.clientId);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get("cache-control")).toBe("public, max-age=600");
  });

  test("oversized bodies are 413", async () => {
    for (const bytes of [16 * 1024 + 1, 64 * 1024, 900 * 1024]) {
      const response = await postForm(auth.tokenUrl, auth.client, oversizedForm(bytes));
      expect(response.status).toBe(413);
      expect(response.json?.error).toBe("invalid_request");
    }
    const atLimit = await postForm(auth.tokenUrl, auth.client, oversizedForm(16 * 1024));
    expect(atLimit.status).toBe(200);
  });

  test("chunked oversized body is 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(8 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 16) return controller.close();
        sent += 1;
        controller.enqueue(chunk);
      },
    });

    const response = await send(auth.tokenUrl, {
      method: "POST",
      headers: { authorization: basicAuth(auth.client), "content-type": "application/x-www-form-urlencoded" },
      body,
    });

    expect(response.status).toBe(413);
  });

  test("wrong content types and repeated parameters", async () => {
    for (const contentType of ["application/json", "text/plain", "multipart/form-data; boundary=x", "nonsense"]) {
      const response = await send(auth.tokenUrl, {
        method: "POST",
        headers: { authorization: basicAuth(auth.client), "content-type": contentType },
        body: new TextEncoder().encode("grant_type=client_credentials"),
      });
      expect(response.status).toBe(400);
      expect(response.json?.error).toBe("invalid_request");
    }

    const repeated = await postForm(auth.tokenUrl, auth.client, "grant_type=client_credentials&scope=a&scope=b");
    expect(repeated.status).toBe(400);
    expect(repeated.json?.error_description).toContain("repeated");
  });

  test("GET on the token path is 405", async () => {
    const response = await send(auth.tokenUrl);

    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });
});

describe("guard inside a Bun fetch handler", () => {
  let auth: Awaited<ReturnType<typeof serveWithProvider>>;
  let service: Server;
  let token: string;

  beforeAll(async () => {
    auth = await serveWithProvider("", (provider) => provider.handle);
    const protect = createFetchGuard(auth.guard);
    const routes: Record<string, (request: Request, server: Server) => Promise<Response>> = {
      "/orders": protect((request, identity) => Response.json({ caller: identity.name, scopes: identity.scopes })),
      "/admin": protect(() => Response.json({ ok: true }), { scopes: ["admin"] }),
      "/port": protect((request, identity, server: Server) => Response.json({ port: server.port })),
    };
    service = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request, server) => {
        const { pathname } = new URL(request.url);
        if (pathname === "/readme") {
          // The handler from the README, with guard.verify() called directly.
          const header = request.headers.get("authorization");
          const bearer = header?.replace(/^Bearer\s+/, "") ?? "";
          try {
            const identity = await auth.guard.verify(bearer);
            return Response.json({ caller: identity.name ?? identity.clientId });
          } catch (error) {
            if (error instanceof AuthError) {
              return Response.json({ error: error.code, message: error.message }, { status: error.status });
            }
            throw error;
          }
        }
        const route = routes[pathname];
        return route ? route(request, server) : new Response("not found", { status: 404 });
      },
    });
    token = await fetchToken(auth.tokenUrl, auth.client);
  });
  afterAll(() => {
    service.stop(true);
    auth.server.stop(true);
  });

  const url = (path: string) => `http://127.0.0.1:${service.port}${path}`;

  test("README handler verifies", async () => {
    const response = await send(url("/readme"), { headers: { authorization: `Bearer ${token}` } });

    expect(response.status).toBe(200);
    expect(response.json).toEqual({ caller: "order-processor" });
  });

  test("protected handler gets the identity", async () => {
    for (const header of acceptedAuthorizations(token)) {
      const response = await send(url("/orders"), { headers: { authorization: header } });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ caller: "order-processor", scopes: ["read:orders", "write:orders"] });
    }
  });

  test("server argument is passed on", async () => {
    const response = await send(url("/port"), { headers: { authorization: `Bearer ${token}` } });

    expect(response.json).toEqual({ port: service.port });
  });

  test("bad Authorization headers rejected", async () => {
    for (const { header, status, code } of rejectedAuthorizations(token)) {
      const response = await send(url("/orders"), { headers: header === undefined ? {} : { authorization: header } });
      expect(response.status).toBe(status);
      expect(response.json?.error).toBe(code);
      expect(response.text).not.toContain(token);
    }
  });

  test("extra scope on one handler", async () => {
    const denied = await send(url("/admin"), { headers: { authorization: `Bearer ${token}` } });

    expect(denied.status).toBe(403);
    expect(denied.json?.error).toBe("invalid_scope");
    expect(denied.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope"');
  });
});
