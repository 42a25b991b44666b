// Clients written straight into storage, for ids and secrets that the
// provider never generates (characters that need form-urlencoding).

import crypto from "node:crypto";

/**
 * A secret with characters that application/x-www-form-urlencoded changes
 * (":", "+", " ", "%", "&", "=", "/", non-ASCII), and its bcrypt hash (cost
 * 10), made once with Bun 1.4.5:
 * `Bun.password.hash(secret, { algorithm: "bcrypt", cost: 10 })`.
 * Storage must accept bcrypt hashes, because databases written by the
 * TypeScript package 0.1.x hold them.
 */
export const ENCODED_SECRET = "p@ss:w+rd 100%&=é/";
export const ENCODED_SECRET_BCRYPT = "$2b$10$MwtbbdYPtpzYap22TeSWI.ZAUvqwH9lFA49JBbjNijCpJL57qv2u.";

/** A client id with a colon, which breaks a Basic header that is not form-urlencoded. */
export const ENCODED_CLIENT_ID = "svc:ops team+é/%1";

/**
 * Writes a client with a bcrypt secret hash into `storage` through
 * `storage.createClient` and returns the stored record.
 */
export async function seedClient(
  storage,
  { clientId = ENCODED_CLIENT_ID, secretHash = ENCODED_SECRET_BCRYPT, name = "seeded", scopes = ["read"], active = true } = {},
) {
  const now = new Date();
  const client = {
    id: crypto.randomUUID(),
    clientId,
    name,
    scopes,
    createdAt: now,
    updatedAt: now,
    lastSeenAt: null,
    currentSecretHash: secretHash,
    currentSecretCreatedAt: now,
    currentSecretLastUsedAt: null,
    nextSecretHash: null,
    nextSecretCreatedAt: null,
    nextSecretExpiresAt: null,
    nextSecretLastUsedAt: null,
    secretLastRotatedAt: null,
    active,
    tokensInvalidBefore: null,
  };
  await storage.createClient(client);
  return client;
}
