/**
 * Public types of the `trustline` package. Every timestamp here is a `Date`;
 * durations are numbers of seconds unless a field says otherwise.
 */

/** JWS algorithms that the provider signs with and the guard accepts. */
export type SigningAlgorithm = "ES256" | "RS256";

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * Error codes carried by `AuthError.code`. The guard's codes come first; the
 * provider's admin calls and the client add their own (for example
 * `client_not_found` or an OAuth `error` code from a token response), so any
 * other string is possible too.
 */
export type AuthErrorCode =
  | "missing_token"
  | "invalid_token"
  | "invalid_issuer"
  | "invalid_audience"
  | "invalid_scope"
  | "invalid_env"
  | "jwks_fetch_failed"
  | (string & {});

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/** Fields that every provider and guard event has. Events never carry secrets or tokens. */
export interface TrustlineEventBase<TType extends string> {
  /** What happened, for example `token.issued`. */
  type: TType;
  /** When it happened. */
  timestamp: Date;
  /** Issuer of the provider or guard that emitted the event. */
  issuer: string;
  /** Whether the operation succeeded. */
  outcome: "success" | "failure";
  /** Client the event is about, when there is one. */
  clientId?: string;
  /** Audience requested or checked, when there is one. */
  audience?: string | string[];
  /** Error code of a failure, as in `AuthError.code`. */
  reasonCode?: string;
  /** Further details that depend on the event type. */
  metadata?: Record<string, unknown>;
}

/** Event types that a provider emits. Other admin operations may add more. */
export type ProviderEventType =
  | "client.created"
  | "client.renamed"
  | "client.scopes_updated"
  | "client.activated"
  | "client.deactivated"
  | "client.secret_rotated"
  | "token.issued"
  | "token.issuance_failed"
  | (string & {});

/** Event types that a guard emits. */
export type GuardEventType =
  | "token.verified"
  | "token.verification_failed"
  | "jwks.refreshed"
  | "jwks.refresh_failed"
  | (string & {});

/** Event passed to `ProviderOptions.hooks.onEvent`. */
export type ProviderEvent = TrustlineEventBase<ProviderEventType>;

/** Event passed to `GuardOptions.hooks.onEvent`. */
export type GuardEvent = TrustlineEventBase<GuardEventType>;

// ---------------------------------------------------------------------------
// Storage
// ---------------------------------------------------------------------------

/** A service client as storage keeps it, secret hashes included. */
export interface ServiceClient {
  /** Internal id, a UUIDv7. */
  id: string;
  /** Public client id: `svc_` and 32 lowercase hex digits. */
  clientId: string;
  name: string;
  /** Scopes the client may request. */
  scopes: string[];
  createdAt: Date;
  updatedAt: Date;
  /** Last successful token request, or `null` if there was none. */
  lastSeenAt: Date | null;
  /** Hash of the current secret: SHA-256, or bcrypt for data written by trustline 0.1. */
  currentSecretHash: string;
  currentSecretCreatedAt: Date;
  currentSecretLastUsedAt: Date | null;
  /** Hash of the pending secret of a rotation with overlap, or `null`. */
  nextSecretHash: string | null;
  nextSecretCreatedAt: Date | null;
  /** When the overlap ends and the pending secret replaces the current one. */
  nextSecretExpiresAt: Date | null;
  nextSecretLastUsedAt: Date | null;
  secretLastRotatedAt: Date | null;
  /** `false` once the client is disabled: it gets no tokens and its tokens fail a guard with storage. */
  active: boolean;
  /** Tokens issued before this instant are rejected by a guard with storage. */
  tokensInvalidBefore: Date | null;
}

/** A signing key pair as storage keeps it. */
export interface SigningKey {
  /** The JWS `kid`. */
  keyId: string;
  algorithm: SigningAlgorithm;
  /** PKCS#8 PEM. */
  privateKey: string;
  /** SPKI PEM. */
  publicKey: string;
  createdAt: Date;
  /** The key signs from this instant on. */
  notBefore: Date;
  /** The key leaves the JWKS at this instant; `null` keeps it. */
  notAfter: Date | null;
}

/** A revoked token id, remembered until the token would have expired anyway. */
export interface RevokedToken {
  jti: string;
  expiresAt: Date;
}

/**
 * Persistence used by the provider, and optionally by the guard for revocation,
 * disable and cutoff checks. `memoryStorage()` and `sqliteStorage()` return
 * one; any object with these methods works too. Each method may return a
 * promise or a plain value. Timestamps may also be returned as ISO-8601
 * strings or epoch milliseconds.
 */
export interface StorageAdapter {
  findClient(clientId: string): Promise<ServiceClient | null>;
  createClient(client: ServiceClient): Promise<void>;
  deleteClient(clientId: string): Promise<void>;
  listClients(): Promise<ServiceClient[]>;
  /** Applies the given fields; fields left out keep their value. */
  updateClient(clientId: string, updates: Partial<ServiceClient>): Promise<void>;
  touchClient(clientId: string, lastSeenAt: Date): Promise<void>;
  setClientActive(clientId: string, active: boolean): Promise<void>;
  setTokensInvalidBefore(clientId: string, at: Date | null): Promise<void>;
  getSigningKeys(): Promise<SigningKey[]>;
  addSigningKey(key: SigningKey): Promise<void>;
  setSigningKeyNotAfter(keyId: string, notAfter: Date | null): Promise<void>;
  findRevokedToken(jti: string): Promise<RevokedToken | null>;
  /** Records a revocation. Revoking the same `jti` twice is not an error. */
  revokeToken(token: RevokedToken): Promise<void>;
}

/** Table names of the SQL storage adapters. */
export interface SqlStorageOptions {
  /** Prefix of the three default table names. Default `"trustline_"`. */
  tablePrefix?: string;
  /** Full table names; each one given here ignores `tablePrefix`. */
  tables?: {
    /** Default `${tablePrefix}clients`. */
    clients?: string;
    /** Default `${tablePrefix}signing_keys`. */
    signingKeys?: string;
    /** Default `${tablePrefix}revoked_tokens`. */
    revokedTokens?: string;
  };
}

// ---------------------------------------------------------------------------
// Provider
// ---------------------------------------------------------------------------

/** Options of `createProvider`. */
export interface ProviderOptions {
  /** The `iss` claim of issued tokens, for example `"https://auth.internal"`. */
  issuer: string;
  /** Where clients, signing keys and revocations are kept. */
  storage: StorageAdapter;
  /**
   * The signing key made on first need (first token or first JWKS request)
   * when storage has none.
   */
  signing?: {
    /** Default `"ES256"`. */
    algorithm?: SigningAlgorithm;
    /** PKCS#8 PEM to import instead of generating a key. */
    privateKey?: string;
    /** The `kid` of that key. Default: generated. */
    keyId?: string;
  };
  token?: {
    /** Access token lifetime in seconds. Default 300. */
    ttl?: number;
  };
  hooks?: {
    /**
     * Receives every provider event. A hook that throws or rejects does not
     * affect the request or call that emitted the event.
     */
    onEvent?(event: ProviderEvent): void | Promise<void>;
  };
  /** Copied into the `env` claim of every token. */
  env?: string;
}

/** A client as the admin API shows it: never a secret or a secret hash. */
export interface ProviderClient {
  /** Internal id, a UUIDv7. */
  id: string;
  /** Public client id: `svc_` and 32 lowercase hex digits. */
  clientId: string;
  name: string;
  scopes: string[];
  createdAt: Date;
  updatedAt: Date;
  lastSeenAt: Date | null;
  currentSecretCreatedAt: Date;
  currentSecretLastUsedAt: Date | null;
  nextSecretCreatedAt: Date | null;
  nextSecretExpiresAt: Date | null;
  nextSecretLastUsedAt: Date | null;
  secretLastRotatedAt: Date | null;
  active: boolean;
  tokensInvalidBefore: Date | null;
  /** `true` while a rotated secret and the previous one both work. */
  hasPendingSecretRotation: boolean;
}

/** Credentials of a new client. The secret is shown only here. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Result of `clients.rotateSecret`. The secret is shown only here. */
export interface RotatedClientSecret extends ClientCredentials {
  /** When the previous secret stops working, or `null` if it stopped at once. */
  expiresAt: Date | null;
}

/** Input of `clients.rotateSecret`. */
export interface RotateSecretInput {
  /** When the previous secret stops working. Must be in the future. */
  expiresAt?: Date;
  /**
   * Seconds during which the previous and the new secret both work. Default
   * 3600; `0` replaces the secret at once.
   */
  overlapSeconds?: number;
}

/** Input of `keys.rotate`. */
export interface RotateKeyInput {
  /** When the new key starts signing. Default now. */
  activateAt?: Date;
  /** Default: the provider's `signing.algorithm`. */
  algorithm?: SigningAlgorithm;
  /** The `kid` of the new key. Default: generated. */
  keyId?: string;
  /**
   * Seconds the previous key stays in the JWKS after `activateAt`, so that
   * tokens it signed still verify. Default: token TTL + 60.
   */
  overlapSeconds?: number;
  /** PKCS#8 PEM to import instead of generating a key. */
  privateKey?: string;
}

/** Admin operations on service clients. Unknown client ids reject with an `AuthError`. */
export interface ProviderClients {
  create(input: { name: string; scopes?: string[] }): Promise<ClientCredentials>;
  list(): Promise<ProviderClient[]>;
  get(clientId: string): Promise<ProviderClient | null>;
  rename(clientId: string, name: string): Promise<void>;
  updateScopes(clientId: string, scopes: string[]): Promise<void>;
  /**
   * Issues a new secret. With an overlap the new secret is pending and both
   * work until the overlap ends.
   */
  rotateSecret(clientId: string, input?: RotateSecretInput): Promise<RotatedClientSecret>;
  /** Deletes the client. */
  revoke(clientId: string): Promise<void>;
  disable(clientId: string): Promise<void>;
  enable(clientId: string): Promise<void>;
  /** Rejects, in guards with storage, the client's tokens issued before `at` (default now). */
  invalidateTokensBefore(clientId: string, at?: Date): Promise<void>;
  clearTokensInvalidBefore(clientId: string): Promise<void>;
}

/** The token issuer. */
export interface Provider {
  /**
   * Serves `POST …/token` (client credentials grant) and
   * `GET …/.well-known/jwks.json`; anything else is a 404. A bound function:
   * `Bun.serve({ fetch: provider.handle })` works.
   */
  handle(request: Request): Promise<Response>;
  clients: ProviderClients;
  keys: {
    /** Adds a signing key that signs from `activateAt` on. */
    rotate(input?: RotateKeyInput): Promise<{ keyId: string }>;
  };
  tokens: {
    /** Revokes a token by its `jti` until `expiresAt`. Revoking twice is not an error. */
    revoke(jti: string, expiresAt: Date): Promise<void>;
  };
}

// ---------------------------------------------------------------------------
// Guard
// ---------------------------------------------------------------------------

/** Options of `createGuard`. */
export interface GuardOptions {
  /** Expected `iss` claim. */
  issuer: string;
  /** Default `${issuer without trailing slash}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** The `aud` claim must contain one of these. Default: `aud` is not checked. */
  audience?: string | string[];
  /** Scopes that the token must all have. */
  scopes?: string[];
  /** Expected `env` claim. Default: not checked. */
  env?: string;
  /** Seconds of clock skew allowed for `exp` and `nbf`. Default 5. */
  clockTolerance?: number;
  hooks?: {
    /** Receives every guard event. A hook that throws or rejects does not affect verification. */
    onEvent?(event: GuardEvent): void | Promise<void>;
  };
  /**
   * Enables the checks that need state: a token is also rejected when its
   * client is missing or disabled, its `jti` is revoked, or it was issued
   * before the client's `tokensInvalidBefore`.
   */
  storage?: StorageAdapter;
}

/** The verified caller. */
export interface ServiceIdentity {
  /** The `sub` claim. */
  clientId: string;
  /** The `name` claim, or `null`. */
  name: string | null;
  /** The `scope` claim split on spaces. */
  scopes: string[];
  /** The `env` claim, or `null`. */
  env: string | null;
  /** All decoded claims. */
  raw: Record<string, unknown>;
}

/** Verifies access tokens locally against the issuer's JWKS. */
export interface Guard {
  /**
   * Verifies a bearer token (without the `Bearer ` prefix). Rejects with an
   * `AuthError`. A bound function: `const { verify } = guard` works.
   */
  verify(token: string): Promise<ServiceIdentity>;
}

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

/** A cached access token. */
export interface CachedClientToken {
  token: string;
  /** When to fetch a new token, in milliseconds since the Unix epoch. */
  refreshAt: number;
}

/**
 * Token cache shared across client instances, for example in Redis. Entries
 * that are not a `CachedClientToken` are deleted and a new token is fetched.
 */
export interface ClientTokenCache {
  get(key: string): Promise<CachedClientToken | null>;
  set(key: string, entry: CachedClientToken): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Options of `createClient`. */
export interface ClientOptions {
  /** The provider's token endpoint, for example `"https://auth.internal/token"`. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Audience to request. */
  audience?: string;
  /** Scopes to request: an array, or a space-separated string. Default: all of the client's scopes. */
  scope?: string | string[];
  /** Default: a cache in memory, private to this client. */
  cache?: ClientTokenCache;
  /** Transport for the token request and for `client.fetch`. Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Seconds before `exp` at which a new token is fetched. Default 30. */
  refreshSkewSeconds?: number;
}

/** First argument of `fetch`: a URL string, a `URL` or a `Request`. */
export type FetchInput = Parameters<typeof globalThis.fetch>[0];

/** Fetches and caches access tokens for outgoing requests. */
export interface TrustlineClient {
  /**
   * Returns a valid access token, from the cache until `exp -
   * refreshSkewSeconds`. Concurrent callers share one token request.
   */
  getToken(): Promise<string>;
  /** Returns `{ Authorization: "Bearer <token>" }`. */
  getHeaders(): Promise<{ Authorization: string }>;
  /** Calls the configured `fetch` with an `Authorization` header added to the request's headers. */
  fetch(input: FetchInput, init?: RequestInit): Promise<Response>;
}
