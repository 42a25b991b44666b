import { CLIENT_TIMESTAMP_FIELDS, fromEpochMillis, recordFromWire, requireEpochMillis } from "./convert.js";
import { callNative, toAuthError } from "./errors.js";
import { eventCallbackFor } from "./events.js";
import {
  HANDLE_VALUES,
  headerBlock,
  requestToNative,
  responseFromNative,
  responseFromWire,
  type ValuesHandler,
} from "./http.js";
import { nativeClass } from "./native.js";
import type {
  NativeHttpRequest,
  NativeHttpResponse,
  NativeProvider,
  NativeProviderOptions,
  NativeStorage,
  WireProviderClient,
} from "./native-types.js";
import { storageBinding } from "./storage.js";
import type {
  Provider,
  ProviderClient,
  ProviderClients,
  ProviderEvent,
  ProviderOptions,
  RotateKeyInput,
  RotateSecretInput,
  SigningAlgorithm,
} from "./types.js";
import {
  optionalFunction,
  optionalInteger,
  optionalObject,
  optionalOneOf,
  optionalString,
  optionalStringArray,
  requireObject,
  requireString,
  requireStringArray,
} from "./validate.js";

const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ["ES256", "RS256"];

/**
 * Creates the token issuer: an HTTP handler for the token and JWKS endpoints
 * and the admin API for clients, keys and revocations. Throws a `TypeError`
 * for an option of the wrong type, and an `AuthError` with code
 * `invalid_argument` for a value the core rejects, such as an issuer that is
 * not an absolute http(s) URL.
 */
export function createProvider(options: ProviderOptions): Provider {
  const [nativeOptions, nativeStorage] = nativeProviderOptions(options);
  const NativeProviderClass = nativeClass("NativeProvider");
  let native: NativeProvider;
  try {
    native = new NativeProviderClass(nativeOptions, nativeStorage);
  } catch (error) {
    throw toAuthError(error);
  }

  // Requests that entered `handle` and have no response yet. For a lone request, an
  // RS256 signature (about 0.25 ms) costs less here than the hop to a worker thread.
  // With others waiting, signing moves to the workers, so this thread stays free.
  let pending = 0;

  const respond = (request: NativeHttpRequest): NativeHttpResponse | Promise<NativeHttpResponse> => {
    const { method, url, body } = request;
    const headers = headerBlock(request.headers);
    // The addon handles the request on this thread when that needs no I/O (local
    // storage and a cached key). Otherwise it returns null, and `handle` does the work.
    const local = native.handleLocal(method, url, headers, body, pending === 1);
    if (local !== null) {
      return responseFromWire(local);
    }
    return native.handle(method, url, headers, body).then(responseFromWire);
  };

  const handle = async (request: Request): Promise<Response> => {
    pending += 1;
    try {
      return responseFromNative(await respond(await requestToNative(request)));
    } catch (error) {
      throw toAuthError(error);
    } finally {
      pending -= 1;
    }
  };

  const handleValues: ValuesHandler = async (request) => {
    pending += 1;
    try {
      return await respond(request);
    } catch (error) {
      throw toAuthError(error);
    } finally {
      pending -= 1;
    }
  };

  const provider: Provider = {
    handle,
    clients: providerClients(native),
    keys: {
      rotate: (input?: RotateKeyInput) => callNative(() => native.rotateKey(rotateKeyInput(input))),
    },
    tokens: {
      revoke: (jti: string, expiresAt: Date) =>
        callNative(() => native.revokeToken(requireString(jti, "jti"), requireEpochMillis(expiresAt, "expiresAt"))),
    },
  };
  Object.defineProperty(provider, HANDLE_VALUES, { value: handleValues });
  return provider;
}

/** Checks the options and converts them to the native constructor's two arguments. */
function nativeProviderOptions(options: ProviderOptions): [NativeProviderOptions, NativeStorage | null] {
  requireObject(options, "createProvider options");

  const signing = optionalObject(options.signing, "options.signing");
  const token = optionalObject(options.token, "options.token");
  const hooks = optionalObject(options.hooks, "options.hooks");
  const onEvent = optionalFunction<(event: ProviderEvent) => void | Promise<void>>(
    hooks?.onEvent,
    "options.hooks.onEvent",
  );

  const issuer = requireString(options.issuer, "options.issuer");
  const { storage, storageDispatch } = storageBinding(options.storage, "options.storage");

  const nativeOptions: NativeProviderOptions = {
    issuer,
    storageDispatch,
    signing: signing && {
      algorithm: optionalOneOf(signing.algorithm, "options.signing.algorithm", SIGNING_ALGORITHMS),
      privateKey: optionalString(signing.privateKey, "options.signing.privateKey"),
      keyId: optionalString(signing.keyId, "options.signing.keyId"),
    },
    tokenTtl: optionalInteger(token?.ttl, "options.token.ttl", 1, "seconds"),
    env: optionalString(options.env, "options.env"),
    onEvent: onEvent && eventCallbackFor(onEvent, "provider hooks.onEvent"),
  };
  return [nativeOptions, storage ?? null];
}

function providerClients(native: NativeProvider): ProviderClients {
  return {
    create: (input) => {
      return callNative(() => {
        const { name, scopes } = requireObject(input, "clients.create input");
        return native.createClient(
          requireString(name, "name"),
          optionalStringArray(scopes, "scopes"),
        );
      });
    },
    list: async () => {
      const clients = await callNative(() => native.listClients());
      return clients.map(providerClientFromWire);
    },
    get: async (clientId) => {
      const client = await callNative(() => native.getClient(requireString(clientId, "clientId")));
      return client === null ? null : providerClientFromWire(client);
    },
    rename: (clientId, name) =>
      callNative(() => native.renameClient(requireString(clientId, "clientId"), requireString(name, "name"))),
    updateScopes: (clientId, scopes) =>
      callNative(() =>
        native.updateScopes(requireString(clientId, "clientId"), requireStringArray(scopes, "scopes")),
      ),
    rotateSecret: async (clientId, input) => {
      const rotated = await callNative(() =>
        native.rotateSecret(requireString(clientId, "clientId"), rotateSecretInput(input)),
      );
      return { ...rotated, expiresAt: fromEpochMillis(rotated.expiresAt) };
    },
    revoke: (clientId) => callNative(() => native.revokeClient(requireString(clientId, "clientId"))),
    disable: (clientId) => callNative(() => native.disableClient(requireString(clientId, "clientId"))),
    enable: (clientId) => callNative(() => native.enableClient(requireString(clientId, "clientId"))),
    invalidateTokensBefore: (clientId, at) =>
      callNative(() =>
        native.invalidateTokensBefore(
          requireString(clientId, "clientId"),
          at === undefined ? undefined : requireEpochMillis(at, "at"),
        ),
      ),
    clearTokensInvalidBefore: (clientId) =>
      callNative(() => native.clearTokensInvalidBefore(requireString(clientId, "clientId"))),
  };
}

function providerClientFromWire(client: WireProviderClient): ProviderClient {
  return recordFromWire<ProviderClient>(client, CLIENT_TIMESTAMP_FIELDS);
}

function rotateSecretInput(input: RotateSecretInput | undefined) {
  const checked = optionalObject(input, "rotateSecret input");
  if (!checked) {
    return undefined;
  }
  return {
    expiresAt: checked.expiresAt === undefined ? undefined : requireEpochMillis(checked.expiresAt, "expiresAt"),
    overlapSeconds: optionalInteger(checked.overlapSeconds, "overlapSeconds", 0, "seconds"),
  };
}

function rotateKeyInput(input: RotateKeyInput | undefined) {
  const checked = optionalObject(input, "keys.rotate input");
  if (!checked) {
    return undefined;
  }
  return {
    activateAt: checked.activateAt === undefined ? undefined : requireEpochMillis(checked.activateAt, "activateAt"),
    algorithm: optionalOneOf(checked.algorithm, "algorithm", SIGNING_ALGORITHMS),
    keyId: optionalString(checked.keyId, "keyId"),
    overlapSeconds: optionalInteger(checked.overlapSeconds, "overlapSeconds", 0, "seconds"),
    privateKey: optionalString(checked.privateKey, "privateKey"),
  };
}
