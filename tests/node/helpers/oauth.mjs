// Token requests built by hand, so that the tests control every byte the
// token endpoint receives (headers, encoding, repeated parameters).

import assert from "node:assert/strict";

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B). */
export function formEncode(value) {
  return new URLSearchParams({ v: value }).toString().slice("v=".length);
}

/**
 * Builds a `client_secret_basic` Authorization header: id and secret are
 * form-urlencoded before they are joined and base64-encoded (RFC 6749 §2.3.1).
 */
export function basicAuth(clientId, clientSecret) {
  const pair = `${formEncode(clientId)}:${formEncode(clientSecret)}`;
  return `Basic ${Buffer.from(pair, "utf8").toString("base64")}`;
}

/**
 * POSTs `body` (a string) to `url` and returns `{ status, headers, text, json }`;
 * `json` is null when the body is not JSON.
 */
export async function post(url, body, headers = {}) {
  const response = await fetch(url, { method: "POST", headers, body });
  return readResponse(response);
}

/** GETs `url` and returns `{ status, headers, text, json }`. */
export async function get(url, headers = {}) {
  const response = await fetch(url, { headers });
  return readResponse(response);
}

async function readResponse(response) {
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/**
 * Sends a client credentials token request.
 *
 * `auth` is "basic" (credentials in the Authorization header), "post"
 * (`client_id`/`client_secret` in the body) or "none". `scope` and `audience`
 * are sent when defined; `grantType: null` leaves `grant_type` out.
 */
export async function requestToken(
  tokenUrl,
  { clientId, clientSecret, auth = "basic", scope, audience, grantType = "client_credentials" } = {},
) {
  const form = new URLSearchParams();
  if (grantType !== null) form.set("grant_type", grantType);
  if (scope !== undefined) form.set("scope", scope);
  if (audience !== undefined) form.set("audience", audience);

  const headers = { "content-type": "application/x-www-form-urlencoded" };
  if (auth === "basic") {
    headers.authorization = basicAuth(clientId, clientSecret);
  } else if (auth === "post") {
    form.set("client_id", clientId);
    form.set("client_secret", clientSecret);
  }

  return post(tokenUrl, form.toString(), headers);
}

/** Requests a token and returns its `access_token`, failing the test on a non-200 response. */
export async function issueToken(tokenUrl, credentials, options = {}) {
  const response = await requestToken(tokenUrl, { ...credentials, ...options });
  assert.equal(response.status, 200, `token request failed: ${response.text}`);
  return response.json.access_token;
}

/** Asserts an OAuth error response: status, JSON `{ error, error_description }`. */
export function assertOAuthError(response, status, error) {
  assert.equal(response.status, status, `status for ${error}; body: ${response.text}`);
  assert.ok(response.json, `error body is not JSON: ${response.text}`);
  assert.equal(response.json.error, error, `body: ${response.text}`);
  assert.equal(typeof response.json.error_description, "string", "error_description is a string");
  assert.match(response.headers.get("content-type") ?? "", /json/);
}
