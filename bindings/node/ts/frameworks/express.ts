/**
 * Entry point `trustline/frameworks/express`: middleware for Express 4 and 5.
 * Express itself is not imported at run time, only its types.
 *
 * ```ts
 * app.use(createExpressProvider(provider));          // POST /token, GET /.well-known/jwks.json
 * app.use("/internal", createExpressGuard(guard));   // sets request.trustline
 * app.post("/internal/orders", requireScopes("write:orders"), handler);
 * ```
 */

import type { NextFunction, Request, RequestHandler, Response } from "express";

import { AuthError } from "../errors.js";
import type { Provider, ServiceIdentity } from "../types.js";
import {
  bodyWasRead,
  encodeParsedBody,
  valuesHandlerOf,
  valuesRequestFromNode,
  webRequestFromNode,
  writeValuesResponse,
  writeWebResponse,
} from "./node-http.js";
import { absoluteUrl, authenticate, authErrorReply, scopeCheck, type TokenVerifier } from "./shared.js";

export type { AuthErrorBody } from "./shared.js";

/** An Express request after `createExpressGuard`: `trustline` is the verified caller. */
export interface TrustlineRequest extends Request {
  trustline?: ServiceIdentity;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified caller, set by `createExpressGuard`. */
      trustline?: ServiceIdentity;
    }
  }
}

/** Paths that the provider serves, relative to where the middleware is mounted. */
const PROVIDER_PATHS = new Set(["/token", "/.well-known/jwks.json"]);

/**
 * Serves the provider's token and JWKS endpoints. Requests to other paths go
 * on to the next middleware, so `app.use(createExpressProvider(provider))`
 * can sit in front of the app's own routes.
 *
 * Mounted under a path (`app.use("/auth", ...)`), it serves `/auth/token`,
 * and the provider's issuer must end in that path
 * (`http://host/auth`). A body that `express.urlencoded()` or
 * `express.json()` already parsed is encoded again and passed on.
 */
export function createExpressProvider(provider: Pick<Provider, "handle">): RequestHandler {
  const handle = provider.handle;
  const handleValues = valuesHandlerOf(provider);

  return function trustlineProvider(req: Request, res: Response, next: NextFunction): void {
    if (!PROVIDER_PATHS.has(req.path)) {
      next();
      return;
    }

    // `originalUrl` keeps the mount path that `url` lost, and the provider
    // matches the issuer's path exactly.
    const url = absoluteUrl(req.protocol, req.headers.host, req.originalUrl);
    const body = bodyWasRead(req) ? encodeParsedBody(req.body, req.headers["content-type"]) : req;

    if (handleValues) {
      valuesRequestFromNode(req, url, body)
        .then(handleValues)
        .then((response) => writeValuesResponse(res, response))
        .catch(next);
      return;
    }
    Promise.resolve()
      .then(() => handle(webRequestFromNode(req, res, url, body)))
      .then((response) => writeWebResponse(res, response))
      .catch(next);
  };
}

/**
 * Verifies the bearer token of each request and sets `request.trustline` to
 * the caller's `ServiceIdentity`. It responds to a missing token with 401
 * and to a failed check with the `AuthError`'s status, both with JSON
 * `{ error, message }`. Any other error goes to `next(error)`, for the app's
 * error handler.
 */
export function createExpressGuard(guard: TokenVerifier): RequestHandler {
  return function trustlineGuard(req: Request, res: Response, next: NextFunction): void {
    authenticate(guard, req.headers.authorization).then(
      (identity) => {
        req.trustline = identity;
        next();
      },
      (error: unknown) => sendAuthError(res, next, error),
    );
  };
}

/**
 * Requires more scopes on one route than the guard requires everywhere, with
 * the same guard: `app.post("/orders", requireScopes("write:orders"), handler)`.
 * Put it after `createExpressGuard(guard)`. It responds with 403
 * `invalid_scope` to a token that lacks one of the scopes. If no guard ran before it, the request
 * goes to `next(error)`, because that is a mistake in the app's setup.
 */
export function requireScopes(...scopes: (string | readonly string[])[]): RequestHandler {
  const check = scopeCheck("requireScopes", scopes);

  return function trustlineRequireScopes(req: Request, res: Response, next: NextFunction): void {
    try {
      check(req.trustline);
    } catch (error) {
      sendAuthError(res, next, error);
      return;
    }
    next();
  };
}

function sendAuthError(res: Response, next: NextFunction, error: unknown): void {
  if (!(error instanceof AuthError)) {
    next(error);
    return;
  }

  const { status, headers, body } = authErrorReply(error);
  res.status(status).set(headers).json(body);
}
