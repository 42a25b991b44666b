/**
 * Hand-written declaration of the classes that the napi-rs addon exports, as
 * docs/native-contract.md specifies them. The TypeScript layer is the only
 * user of these names. Every timestamp is milliseconds since the Unix epoch.
 * Rejections carry their code in the message, which `toAuthError` parses.
 *
 * NOTE: `npm run build:native` writes the addon's own generated declaration to
 * bindings/node/native/native.generated.d.ts; compare the two when the
 * contract changes.
 */

/** Milliseconds since the Unix epoch. */
export type EpochMillis = number;

export interface WireServiceClient {
  id: string;
  clientId: string;
  name: string;
  scopes: string[];
  createdAt: EpochMillis;
  updatedAt: EpochMillis;
  lastSeenAt: EpochMillis | null;
  currentSecretHash: string;
  currentSecretCreatedAt: EpochMillis;
  currentSecretLastUsedAt: EpochMillis | null;
  nextSecretHash: string | null;
  nextSecretCreatedAt: EpochMillis | null;
  nextSecretExpiresAt: EpochMillis | null;
  nextSecretLastUsedAt: EpochMillis | null;
  secretLastRotatedAt: EpochMillis | null;
  active: boolean;
  tokensInvalidBefore: EpochMillis | null;
}

export interface WireProviderClient {
  id: string;
  clientId: string;
  name: string;
  scopes: string[];
  createdAt: EpochMillis;
  updatedAt: EpochMillis;
  lastSeenAt: EpochMillis | null;
  currentSecretCreatedAt: EpochMillis;
  currentSecretLastUsedAt: EpochMillis | null;
  nextSecretCreatedAt: EpochMillis | null;
  nextSecretExpiresAt: EpochMillis | null;
  nextSecretLastUsedAt: EpochMillis | null;
  secretLastRotatedAt: EpochMillis | null;
  active: boolean;
  tokensInvalidBefore: EpochMillis | null;
  hasPendingSecretRotation: boolean;
}

export interface WireSigningKey {
  keyId: string;
  algorithm: string;
  privateKey: string;
  publicKey: string;
  createdAt: EpochMillis;
  notBefore: EpochMillis;
  notAfter: EpochMillis | null;
}

export interface WireRevokedToken {
  jti: string;
  expiresAt: EpochMillis;
}

/** A header list in order, names as received. */
export type WireHeaders = [string, string][];

/** Calls a method of a user `StorageAdapter`; arguments and result are JSON with wire types. */
export type StorageDispatch = (method: string, argsJson: string) => Promise<string>;

/** Performs an HTTP request described by `WireFetchRequest` JSON; resolves to `WireFetchResponse` JSON. */
export type FetchDispatch = (requestJson: string) => Promise<string>;

/** A `ClientTokenCache` operation; `get` resolves to entry JSON or `"null"`, the others to `"null"`. */
export type CacheDispatch = (op: string, key: string, valueJson: string) => Promise<string>;

/** Receives one event as JSON. Fire and forget. */
export type EventCallback = (eventJson: string) => void;

export interface WireFetchRequest {
  method: string;
  url: string;
  headers: WireHeaders;
  body: string;
}

export interface WireFetchResponse {
  status: number;
  headers: WireHeaders;
  body: string;
}

export interface NativeSqlOptions {
  tablePrefix?: string;
  tables?: { clients?: string; signingKeys?: string; revokedTokens?: string };
}

export interface NativeStorage {
  findClient(clientId: string): Promise<WireServiceClient | null>;
  createClient(client: WireServiceClient): Promise<void>;
  deleteClient(clientId: string): Promise<void>;
  listClients(): Promise<WireServiceClient[]>;
  updateClient(clientId: string, updates: Partial<WireServiceClient>): Promise<void>;
  touchClient(clientId: string, lastSeenAt: EpochMillis): Promise<void>;
  setClientActive(clientId: string, active: boolean): Promise<void>;
  setTokensInvalidBefore(clientId: string, at: EpochMillis | null): Promise<void>;
  getSigningKeys(): Promise<WireSigningKey[]>;
  addSigningKey(key: WireSigningKey): Promise<void>;
  setSigningKeyNotAfter(keyId: string, notAfter: EpochMillis | null): Promise<void>;
  findRevokedToken(jti: string): Promise<WireRevokedToken | null>;
  revokeToken(token: WireRevokedToken): Promise<void>;
  close(): void;
}

/** A SQL dialect whose queries the core writes. */
export type NativeSqlDialect = "sqlite" | "postgres" | "mysql";

/**
 * Runs one statement of the core through a user's database handle.
 * `paramsJson` is a JSON array of `null`, strings, integers and booleans,
 * bound in order. An `execute` resolves to the number of changed rows as a
 * string (`"3"`); a `query` resolves to a JSON array of rows, each an array
 * of column values in select-list order. Must never throw synchronously.
 */
export type SqlDispatch = (kind: "execute" | "query", sql: string, paramsJson: string) => Promise<string>;

export interface NativeStorageClass {
  memory(): NativeStorage;
  sqlite(path: string, options?: NativeSqlOptions): NativeStorage;
  sql(dialect: NativeSqlDialect, dispatch: SqlDispatch, options?: NativeSqlOptions): NativeStorage;
}

export interface NativeProviderOptions {
  issuer: string;
  /** Set for a user storage adapter; a `NativeStorage` goes in the second constructor argument instead. */
  storageDispatch?: StorageDispatch;
  signing?: { algorithm?: string; privateKey?: string; keyId?: string };
  /** Seconds. */
  tokenTtl?: number;
  env?: string;
  onEvent?: EventCallback;
}

export interface NativeHttpRequest {
  method: string;
  url: string;
  headers: WireHeaders;
  body: Buffer;
}

export interface NativeHttpResponse {
  status: number;
  headers: WireHeaders;
  body: string;
}

export interface NativeCreatedClient {
  clientId: string;
  clientSecret: string;
}

export interface NativeRotatedSecret {
  clientId: string;
  clientSecret: string;
  expiresAt: EpochMillis | null;
}

export interface NativeRotateKeyInput {
  activateAt?: EpochMillis;
  algorithm?: string;
  keyId?: string;
  overlapSeconds?: number;
  privateKey?: string;
}

export interface NativeProvider {
  /**
   * Handles a request. `headers` has one `name: value` line per header, and the
   * response comes as text (see `responseFromWire`).
   */
  handle(method: string, url: string, headers: string, body: Buffer): Promise<string>;
  /** As `handle`, on this thread when no I/O is needed; `null` means "use handle". */
  handleLocal(method: string, url: string, headers: string, body: Buffer, idle: boolean): string | null;
  createClient(name: string, scopes?: string[]): Promise<NativeCreatedClient>;
  listClients(): Promise<WireProviderClient[]>;
  getClient(clientId: string): Promise<WireProviderClient | null>;
  renameClient(clientId: string, name: string): Promise<void>;
  updateScopes(clientId: string, scopes: string[]): Promise<void>;
  rotateSecret(
    clientId: string,
    input?: { expiresAt?: EpochMillis; overlapSeconds?: number },
  ): Promise<NativeRotatedSecret>;
  revokeClient(clientId: string): Promise<void>;
  disableClient(clientId: string): Promise<void>;
  enableClient(clientId: string): Promise<void>;
  invalidateTokensBefore(clientId: string, at?: EpochMillis): Promise<void>;
  clearTokensInvalidBefore(clientId: string): Promise<void>;
  rotateKey(input?: NativeRotateKeyInput): Promise<{ keyId: string }>;
  revokeToken(jti: string, expiresAt: EpochMillis): Promise<void>;
}

export interface NativeProviderClass {
  new (options: NativeProviderOptions, storage: NativeStorage | null): NativeProvider;
}

export interface NativeGuardOptions {
  issuer: string;
  /** Set for a user storage adapter; a `NativeStorage` goes in the second constructor argument instead. */
  storageDispatch?: StorageDispatch;
  jwksUrl?: string;
  audience?: string[];
  scopes?: string[];
  env?: string;
  /** Seconds. */
  clockTolerance?: number;
  onEvent?: EventCallback;
  fetchDispatch: FetchDispatch;
}

export interface NativeServiceIdentity {
  clientId: string;
  name: string | null;
  scopes: string[];
  env: string | null;
  raw: Record<string, unknown>;
}

export interface NativeGuard {
  /**
   * Resolves to the identity as JSON text. The text starts with a space when the
   * addon had verified the token before (`JSON.parse` skips it).
   */
  verify(token: string): Promise<string>;
  /** Verifies without I/O when possible: the identity as JSON text as from `verify`, or `null` for "use verify". Throws on a failed check. */
  verifyLocal(token: string): string | null;
  /** For a token verified before: `true` while still valid, `false` when it must be verified again; throws when no longer valid. */
  revalidate(token: string): boolean;
}

export interface NativeGuardClass {
  new (options: NativeGuardOptions, storage: NativeStorage | null): NativeGuard;
}

export interface NativeClientOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  audience?: string;
  scope?: string[];
  /** Seconds. */
  refreshSkewSeconds?: number;
  fetchDispatch: FetchDispatch;
  cacheDispatch?: CacheDispatch;
}

export interface NativeClient {
  getToken(): Promise<string>;
}

export interface NativeClientClass {
  new (options: NativeClientOptions): NativeClient;
}

/** The addon's exports. */
export interface NativeBinding {
  NativeStorage: NativeStorageClass;
  NativeProvider: NativeProviderClass;
  NativeGuard: NativeGuardClass;
  NativeClient: NativeClientClass;
}
