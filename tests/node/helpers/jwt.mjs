// JWT decoding and signing with node:crypto alone, so that the tests can read
// the product's tokens and forge tokens (other keys, other algorithms, bad
// claims) without trusting the code under test.

import crypto from "node:crypto";

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function base64url(input) {
  const buffer = typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input);
  return buffer.toString("base64url");
}

/** Splits a compact JWS and parses its header and payload, without verifying anything. */
export function decodeJwt(token) {
  const [header, payload, signature] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")),
    payload: JSON.parse(Buffer.from(payload, "base64url").toString("utf8")),
    signature,
    signingInput: `${header}.${payload}`,
  };
}

/** Seconds since the Unix epoch, as JWT `iat`/`exp`/`nbf` use. */
export function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

/**
 * Signs `payload` as a compact JWS with `header.alg`:
 * ES256/ES384 (ECDSA, raw r||s signature), RS256/PS256 (RSA),
 * HS256 (HMAC with `key` as the secret) or "none" (empty signature).
 */
export function signJwt(header, payload, key) {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const data = Buffer.from(signingInput);

  let signature;
  switch (header.alg) {
    case "ES256":
      signature = crypto.sign("sha256", data, { key, dsaEncoding: "ieee-p1363" });
      break;
    case "ES384":
      signature = crypto.sign("sha384", data, { key, dsaEncoding: "ieee-p1363" });
      break;
    case "RS256":
      signature = crypto.sign("sha256", data, key);
      break;
    case "PS256":
      signature = crypto.sign("sha256", data, {
        key,
        padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
      break;
    case "HS256":
      signature = crypto.createHmac("sha256", key).update(data).digest();
      break;
    case "none":
      signature = Buffer.alloc(0);
      break;
    default:
      throw new Error(`signJwt: unsupported alg ${header.alg}`);
  }
  return `${signingInput}.${base64url(signature)}`;
}

/**
 * Verifies a compact JWS with a public JWK through node:crypto; returns true
 * when the signature is valid for the JWK's algorithm (ES256 or RS256).
 */
export function verifyWithJwk(token, jwk) {
  const { header, signingInput, signature } = decodeJwt(token);
  const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
  const data = Buffer.from(signingInput);
  const sig = Buffer.from(signature, "base64url");
  if (header.alg === "ES256") {
    return crypto.verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, sig);
  }
  if (header.alg === "RS256") {
    return crypto.verify("sha256", data, key, sig);
  }
  throw new Error(`verifyWithJwk: unsupported alg ${header.alg}`);
}

/**
 * Generates a signing key pair and its public JWK.
 * `kind` is "ES256" (P-256), "ES384" (P-384) or "RS256" (RSA 2048).
 * Returns `{ privateKey, publicKey, privatePem, publicPem, jwk }`; the JWK
 * carries `kid`, `use: "sig"` and, unless `alg` is null, `alg`.
 */
export function generateSigningKey(kind, kid, { alg = kind } = {}) {
  const { privateKey, publicKey } =
    kind === "RS256"
      ? crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
      : crypto.generateKeyPairSync("ec", { namedCurve: kind === "ES384" ? "P-384" : "P-256" });

  const jwk = { ...publicKey.export({ format: "jwk" }), kid, use: "sig" };
  if (alg !== null) jwk.alg = alg;

  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ format: "pem", type: "pkcs8" }),
    publicPem: publicKey.export({ format: "pem", type: "spki" }),
    jwk,
  };
}

/** Claims of a token that a guard with `issuer` accepts, lasting `ttl` seconds. */
export function validClaims(issuer, overrides = {}, ttl = 300) {
  const iat = nowSeconds();
  return {
    iss: issuer,
    sub: "svc_0123456789abcdef0123456789abcdef",
    scope: "read:orders write:orders",
    name: "orders-api",
    jti: crypto.randomUUID(),
    iat,
    exp: iat + ttl,
    ...overrides,
  };
}
