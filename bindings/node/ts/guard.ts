import { describe } from "./convert.js";
import { callNative, toAuthError } from "./errors.js";
import { eventCallbackFor } from "./events.js";
import { fetchDispatchFor } from "./http.js";
import { nativeClass } from "./native.js";
import type { NativeGuard, NativeGuardOptions, NativeStorage } from "./native-types.js";
import { storageBinding } from "./storage.js";
import type { Guard, GuardEvent, GuardOptions, ServiceIdentity } from "./types.js";
import {
  optionalFunction,
  optionalNumber,
  optionalObject,
  optionalString,
  optionalStringArray,
  requireObject,
  requireString,
  requireStringArray,
  requireUrl,
} from "./validate.js";

/** How many identities a guard keeps; equal to the addon's verified-token cache. */
const IDENTITY_CACHE_CAPACITY = 4096;

/**
 * Returns a copy of a kept identity for one caller. `raw` is shared between
 * callers and frozen, so that no caller can change what another one sees.
 * NOTE: the freeze is shallow; an array claim such as `aud` stays mutable.
 */
function copyIdentity(identity: ServiceIdentity): ServiceIdentity {
  return { ...identity, scopes: [...identity.scopes] };
}

/**
 * Creates a verifier of access tokens. The JWKS is fetched with
 * `globalThis.fetch` on first use. Throws a `TypeError` for an option of the
 * wrong type, and an `AuthError` with code `invalid_argument` for a value the
 * core rejects.
 */
export function createGuard(options: GuardOptions): Guard {
  const [nativeOptions, nativeStorage] = nativeGuardOptions(options);
  const NativeGuardClass = nativeClass("NativeGuard");
  let native: NativeGuard;
  try {
    native = new NativeGuardClass(nativeOptions, nativeStorage);
  } catch (error) {
    throw toAuthError(error);
  }

  // Identities of tokens verified before, oldest first, bounded like the addon's
  // own cache of verified tokens. Parsing the identity once and keeping it makes
  // a repeated verification cost one call into the addon.
  const identities = new Map<string, ServiceIdentity>();
  const remember = (token: string, json: string): ServiceIdentity => {
    const identity = JSON.parse(json) as ServiceIdentity;
    Object.freeze(identity.raw);
    if (identities.size >= IDENTITY_CACHE_CAPACITY) {
      identities.delete(identities.keys().next().value as string);
    }
    identities.set(token, identity);
    return copyIdentity(identity);
  };

  const verify = (token: string): Promise<ServiceIdentity> => {
    // A missing header often arrives as `undefined`. The addon rejects it
    // with `missing_token` (401), as it does an empty string.
    if (token === undefined || token === null) {
      token = "";
    }
    if (typeof token !== "string") {
      return Promise.reject(new TypeError(`verify() expects the token as a string, got ${describe(token)}`));
    }

    // A token verified before: the addon still checks expiry and storage
    // (revocation, disable, cutoff), and this side keeps the identity object.
    const known = identities.get(token);
    if (known !== undefined) {
      try {
        if (native.revalidate(token)) {
          return Promise.resolve(copyIdentity(known));
        }
        identities.delete(token);
      } catch (error) {
        identities.delete(token);
        return Promise.reject(toAuthError(error));
      }
    }

    // With the JWKS cached and no remote storage, the addon verifies on this
    // thread; otherwise it returns null and the async path does the I/O.
    try {
      const json = native.verifyLocal(token);
      if (json !== null) {
        return Promise.resolve(remember(token, json));
      }
    } catch (error) {
      return Promise.reject(toAuthError(error));
    }
    return callNative(async () => remember(token, await native.verify(token)));
  };

  return { verify };
}

/** Checks the options and converts them to the native constructor's two arguments. */
function nativeGuardOptions(options: GuardOptions): [NativeGuardOptions, NativeStorage | null] {
  requireObject(options, "createGuard options");

  const hooks = optionalObject(options.hooks, "options.hooks");
  const onEvent = optionalFunction<(event: GuardEvent) => void | Promise<void>>(
    hooks?.onEvent,
    "options.hooks.onEvent",
  );
  const issuer = requireString(options.issuer, "options.issuer");
  const { storage, storageDispatch } =
    options.storage === undefined ? {} : storageBinding(options.storage, "options.storage");

  const nativeOptions: NativeGuardOptions = {
    issuer,
    jwksUrl: options.jwksUrl === undefined ? undefined : requireUrl(options.jwksUrl, "options.jwksUrl"),
    audience: audienceList(options.audience),
    scopes: optionalStringArray(options.scopes, "options.scopes"),
    env: optionalString(options.env, "options.env"),
    clockTolerance: optionalNumber(options.clockTolerance, "options.clockTolerance", 0, "seconds"),
    storageDispatch,
    onEvent: onEvent && eventCallbackFor(onEvent, "guard hooks.onEvent"),
    fetchDispatch: fetchDispatchFor(() => globalThis.fetch),
  };
  return [nativeOptions, storage ?? null];
}

/**
 * Normalizes `audience` to a list. An empty string or list is rejected rather
 * than read as "no audience check", which would accept tokens for any audience.
 */
function audienceList(audience: unknown): string[] | undefined {
  if (audience === undefined) {
    return undefined;
  }
  if (typeof audience === "string") {
    return [requireString(audience, "options.audience")];
  }

  if (!Array.isArray(audience)) {
    throw new TypeError(`options.audience must be a string or an array of strings, got ${describe(audience)}`);
  }
  const list = requireStringArray(audience, "options.audience");
  if (list.length === 0) {
    throw new TypeError("options.audience must not be an empty array; leave it out to skip the audience check");
  }
  return list;
}
