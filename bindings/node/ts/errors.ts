import type { AuthErrorCode } from "./types.js";

/**
 * Error of every trustline operation that fails for a reason the caller can
 * act on. Branch on `code`, never on `message`; `status` is the HTTP status
 * that a server should respond with (401 or 403 for a failed verification).
 */
export class AuthError extends Error {
  /** Machine-readable reason, for example `invalid_token` or `invalid_audience`. */
  readonly code: AuthErrorCode;
  /** HTTP status for this failure. */
  readonly status: number;

  constructor(code: AuthErrorCode, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AuthError";
    this.code = code;
    this.status = status;
  }
}

// Native errors start their message with `[trustline:<code>:<status>] `, for
// example `[trustline:invalid_token:401] the token has expired`.
const NATIVE_ERROR_PREFIX = /^\[trustline:([A-Za-z0-9_.-]+):(\d{3})\] /;

/**
 * Turns an error thrown by the native addon into an `AuthError`. Any other
 * value, such as a `TypeError` from argument validation or an error thrown by
 * user code, is returned unchanged.
 */
export function toAuthError(error: unknown): unknown {
  if (error instanceof AuthError || !(error instanceof Error)) {
    return error;
  }

  const match = NATIVE_ERROR_PREFIX.exec(error.message);
  if (!match) {
    return error;
  }

  const [prefix, code, status] = match;
  return new AuthError(code!, error.message.slice(prefix!.length), Number(status));
}

/** Awaits a native call and rethrows its failure as an `AuthError`. */
export async function callNative<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toAuthError(error);
  }
}
