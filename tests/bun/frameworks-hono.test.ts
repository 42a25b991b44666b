// trustline/frameworks/hono on Bun: a Hono app served by Bun.serve with the
// provider sub-app mounted at the issuer's path, the guard setting
// c.get("trustline"), requireScopes, and bad input.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";

import { Hono } from "hono";
import { createGuard, createProvider, memoryStorage } from "trustline";
import { createHonoGuard, createHonoProvider, requireScopes, type TrustlineEnv } from "trustline/frameworks/hono";

import {
  acceptedAuthorizations,
  AUDIENCE,
  basicAuth,
  fetchToken,
  oversizedForm,
  postForm,
  rejectedAuthorizations,
  send,
  type Server,
} from "./frameworks-helpers";

describe("hono on bun", () => {
  let server: Server;
  let origin: string;
  let client: { clientId: string; clientSecret: string };
  let token: string;

  beforeAll(async () => {
    // The port is known only once the server listens, and the issuer needs it.
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(null, { status: 503 }) });
    origin = `http://127.0.0.1:${server.port}`;
    const issuer = `${origin}/auth`;
    const provider = createProvider({ issuer, storage: memoryStorage() });
    const guard = createGuard({ issuer, audience: AUDIENCE });

    const app = new Hono<TrustlineEnv>();
    app.route("/auth", createHonoProvider(provider));
    app.use("/internal/*", createHonoGuard(guard));
    app.get("/internal/me", (c) => {
      const identity = c.get("trustline");
      return c.json({ caller: identity.name ?? identity.clientId, scopes: identity.scopes });
    });
    app.post("/internal/orders", requireScopes("write:orders"), (c) => c.json({ ok: true }));
    app.delete("/internal/orders", requireScopes("admin"), (c) => c.json({ ok: true }));
    server.reload({ fetch: app.fetch });

    client = await provider.clients.create({ name: "order-processor", scopes: ["read:orders", "write:orders"] });
    token = await fetchToken(`${issuer}/token`, client);
  });
  afterAll(() => server.stop(true));

  test("guard sets the identity", async () => {
    for (const header of acceptedAuthorizations(token)) {
      const response = await send(`${origin}/internal/me`, { headers: { authorization: header } });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ caller: "order-processor", scopes: ["read:orders", "write:orders"] });
    }
  });

  test("bad Authorization headers rejected", async () => {
    for (const { header, status, code } of rejectedAuthorizations(token)) {
      const response = await send(`${origin}/internal/me`, { headers: header === undefined ? {} : { authorization: header } });
      expect(response.status).toBe(status);
      expect(response.json?.error).toBe(code);
      expect(typeof response.json?.message).toBe("string");
    }
  });

  test("requireScopes on one route", async () => {
    const narrow = await fetchToken(`${origin}/auth/token`, client, "read:orders");
    const call = (method: string, bearer: string) =>
      send(`${origin}/internal/orders`, { method, headers: { authorization: `Bearer ${bearer}` } });

    expect((await call("POST", token)).status).toBe(200);
    expect((await call("POST", narrow)).status).toBe(403);
    expect((await call("DELETE", token)).json?.error).toBe("invalid_scope");
  });

  test("JWKS under the mount path", async () => {
    const jwks = await send(`${origin}/auth/.well-known/jwks.json`);
    const getToken = await send(`${origin}/auth/token`);

    expect(jwks.status).toBe(200);
    expect(jwks.json?.keys.length).toBe(1);
    expect(getToken.status).toBe(405);
  });

  test("bad token requests are OAuth errors", async () => {
    for (const bytes of [16 * 1024 + 1, 900 * 1024]) {
      const response = await postForm(`${origin}/auth/token`, client, oversizedForm(bytes));
      expect(response.status).toBe(413);
      expect(response.json?.error).toBe("invalid_request");
    }

    const repeated = await postForm(`${origin}/auth/token`, client, "grant_type=client_credentials&grant_type=x");
    expect(repeated.status).toBe(400);

    const json = await send(`${origin}/auth/token`, {
      method: "POST",
      headers: { authorization: basicAuth(client), "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "client_credentials" }),
    });
    expect(json.status).toBe(400);
    expect(json.json?.error).toBe("invalid_request");
  });
});
