/**
 * Entry point `trustline/frameworks/hono`: a sub-app and middleware for
 * Hono 4, on Node.js (`@hono/node-server`) and on Bun. Only this entry point
 * loads `hono`, because a sub-app to mount is a `Hono` instance.
 *
 * ```ts
 * app.route("/auth", createHonoProvider(provider));
 * app.use("/internal/*", createHonoGuard(guard));
 * app.post("/internal/orders", requireScopes("write:orders"), (c) => c.json(c.get("trustline")));
 * ```
 */

import { Hono, type Context, type MiddlewareHandler } from "hono";

import { AuthError } from "../errors.js";
import type { Provider, ServiceIdentity } from "../types.js";
import { authenticate, authErrorResponse, scopeCheck, type TokenVerifier } from "./shared.js";

export type { AuthErrorBody } from "./shared.js";

/** Context variables that `createHonoGuard` sets: `c.get("trustline")`. */
export interface TrustlineVariables {
  trustline: ServiceIdentity;
}

/** Hono environment with the trustline variables: `new Hono<TrustlineEnv>()`. */
export interface TrustlineEnv {
  Variables: TrustlineVariables;
}

/**
 * Creates a Hono app that serves the provider's token and JWKS endpoints,
 * `/token` and `/.well-known/jwks.json`, to mount with
 * `app.route(issuerPath, createHonoProvider(provider))`: the mount path must
 * be the path of the provider's issuer (`"/"` when it has none). Every method
 * reaches the provider, which responds with 405 to a method that an
 * endpoint does not take.
 */
export function createHonoProvider(provider: Pick<Provider, "handle">): Hono {
  const handle = provider.handle;
  const app = new Hono();

  const route = async (c: Context) => handle(await unreadRequest(c));
  app.all("/token", route);
  app.all("/.well-known/jwks.json", route);
  return app;
}

/**
 * Returns the request with a body that the provider can still read. When an
 * earlier middleware read it through `c.req`, Hono kept a copy, and the
 * request is rebuilt from that.
 */
async function unreadRequest(c: Context): Promise<Request> {
  const raw = c.req.raw;
  if (!raw.bodyUsed) {
    return raw;
  }

  // NOTE: a body that was read only as form data (`c.req.parseBody()`,
  // `c.req.formData()`) comes back multipart-encoded, which the token
  // endpoint rejects as malformed.
  const body = await c.req.arrayBuffer();
  return new Request(raw.url, { method: raw.method, headers: raw.headers, body });
}

/**
 * Creates middleware that verifies the bearer token and stores the caller's
 * `ServiceIdentity` under `c.get("trustline")`. It responds to a missing
 * token with 401 and to a failed check with the `AuthError`'s status, both with JSON
 * `{ error, message }`. Any other error is thrown to the app's `onError`.
 */
export function createHonoGuard(guard: TokenVerifier): MiddlewareHandler<TrustlineEnv> {
  return async function trustlineGuard(c, next) {
    let identity: ServiceIdentity;
    try {
      identity = await authenticate(guard, c.req.header("authorization"));
    } catch (error) {
      return authErrorOrThrow(error);
    }

    c.set("trustline", identity);
    await next();
  };
}

/**
 * Creates middleware that requires more scopes on one route than the guard
 * requires everywhere, with the same guard:
 * `app.post("/orders", requireScopes("write:orders"), handler)` behind
 * `createHonoGuard(guard)`. It responds with 403 `invalid_scope` to a token
 * that lacks one of the scopes. If no guard ran before it, the error is thrown to
 * the app's `onError`, because that is a mistake in the app's setup.
 */
export function requireScopes(...scopes: (string | readonly string[])[]): MiddlewareHandler<TrustlineEnv> {
  const check = scopeCheck("requireScopes", scopes);

  return async function trustlineRequireScopes(c, next) {
    try {
      check(c.get("trustline"));
    } catch (error) {
      return authErrorOrThrow(error);
    }
    await next();
  };
}

function authErrorOrThrow(error: unknown): Response {
  if (error instanceof AuthError) {
    return authErrorResponse(error);
  }
  throw error;
}
