/**
 * Entry point `trustline/frameworks/fetch`: helpers for servers that take a
 * Web `Request` and return a `Response` (`Bun.serve`, `Deno.serve`, edge
 * runtimes). It loads no framework. The provider needs no adapter there:
 * `Bun.serve({ fetch: provider.handle })`.
 *
 * ```ts
 * const protect = createFetchGuard(guard);
 * Bun.serve({
 *   fetch: protect((request, identity) => Response.json({ caller: identity.clientId })),
 * });
 * ```
 */

import { AuthError } from "../errors.js";
import type { ServiceIdentity } from "../types.js";
import { authenticate, authErrorResponse, bearerToken, scopeCheck, type TokenVerifier } from "./shared.js";

export type { AuthErrorBody } from "./shared.js";
export { authErrorResponse, bearerToken };

/** A fetch handler that runs after the token was verified. */
export type TrustlineFetchHandler<TArgs extends unknown[] = unknown[]> = (
  request: Request,
  identity: ServiceIdentity,
  ...rest: TArgs
) => Response | Promise<Response>;

/** Options of one protected handler. */
export interface ProtectOptions {
  /** Scopes this handler requires on top of the guard's own `scopes`. */
  scopes?: string[];
}

/**
 * Creates `protect(handler, options?)`, which wraps a fetch handler: it
 * verifies the request's bearer token and calls `handler(request, identity,
 * ...rest)`, where `rest` is whatever the server passed after the request
 * (Bun's `server`, for example). It responds to a missing token with 401
 * and to a failed check with the `AuthError`'s status, both with JSON
 * `{ error, message }`. Any other error rejects, for the server's own error
 * handling. `options.scopes` requires more scopes for this handler than the
 * guard requires everywhere.
 */
export function createFetchGuard(guard: TokenVerifier) {
  return function protect<TArgs extends unknown[]>(
    handler: TrustlineFetchHandler<TArgs>,
    options: ProtectOptions = {},
  ): (request: Request, ...rest: TArgs) => Promise<Response> {
    const checkScopes = options.scopes === undefined ? undefined : scopeCheck("protect", options.scopes);

    return async (request, ...rest) => {
      let identity: ServiceIdentity;
      try {
        identity = await authenticate(guard, request.headers.get("authorization"));
        checkScopes?.(identity);
      } catch (error) {
        if (error instanceof AuthError) {
          return authErrorResponse(error);
        }
        throw error;
      }
      return handler(request, identity, ...rest);
    };
  };
}
