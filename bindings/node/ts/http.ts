/** Conversions between Web Fetch API objects and the addon's HTTP values. */

import { describe } from "./convert.js";
import type {
  FetchDispatch,
  NativeHttpRequest,
  NativeHttpResponse,
  WireFetchRequest,
  WireFetchResponse,
  WireHeaders,
} from "./native-types.js";

/** Statuses whose response must not have a body (Fetch standard, "null body status"). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Largest request body, in bytes, that the provider accepts. The core answers
 * a longer token request with 413 (`MAX_TOKEN_REQUEST_BYTES` in
 * core/src/provider/token_endpoint.rs), so reading one more byte than this is
 * enough for it to reject the body. The two limits must stay equal.
 */
export const MAX_REQUEST_BODY_BYTES = 16 * 1024;

/** How many bytes of a body are read: one past the limit, so that the core can reject it. */
export const REQUEST_BODY_READ_BYTES = MAX_REQUEST_BODY_BYTES + 1;

/**
 * How many bytes past the limit are still read and dropped in the background,
 * so that a client that is still sending its body receives the 413 rather
 * than a closed connection.
 */
const MAX_DISCARDED_BODY_BYTES = 1024 * 1024;

/**
 * Reads a Web `Request` (method, URL, headers, body) into the addon's request
 * value. A body longer than `MAX_REQUEST_BODY_BYTES` is cut one byte after
 * the limit, and the core rejects it with 413.
 */
export async function requestToNative(request: Request): Promise<NativeHttpRequest> {
  if (request === null || typeof request !== "object" || typeof request.arrayBuffer !== "function") {
    throw new TypeError(`handle() expects a Web Fetch API Request, got ${describe(request)}`);
  }

  const body = await readBodyUpTo(request, REQUEST_BODY_READ_BYTES);
  return {
    method: request.method,
    url: request.url,
    headers: headersToWire(request.headers),
    body,
  };
}

/**
 * Reads at most `maxBytes` of the request body, whatever its `Content-Length`
 * header declares, and reads and drops the rest in the background.
 */
async function readBodyUpTo(request: Request, maxBytes: number): Promise<Buffer> {
  if (request.body === null) {
    return Buffer.alloc(0);
  }

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (length < maxBytes) {
    const { done, value } = await reader.read();
    if (done) {
      return Buffer.concat(chunks, length);
    }
    chunks.push(value);
    length += value.byteLength;
  }

  void discardRest(reader);
  return Buffer.concat(chunks, length).subarray(0, maxBytes);
}

/**
 * Reads and drops up to `MAX_DISCARDED_BODY_BYTES` of what is left of a body.
 * Past that, the rest is left to the server. The stream is not cancelled:
 * a Node.js bridge such as @hono/node-server destroys the socket then, which
 * the client sees as a reset connection instead of the 413.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let discarded = 0;
  try {
    while (discarded <= MAX_DISCARDED_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      discarded += value.byteLength;
    }
    reader.releaseLock();
  } catch {
    // The client closed the connection, so nothing is left to read.
  }
}

/**
 * The key of the provider's entry point for plain request values, which the
 * `node:http` framework adapters use when they find it: it skips the Web
 * `Request` and `Response` objects, which on Node.js 20 cost more than
 * signing an ES256 token. `Symbol.for`, so that the ESM and CommonJS builds
 * share it.
 */
export const HANDLE_VALUES = Symbol.for("trustline.provider.handleValues");

/** Handles a request given as plain values, with the limits of `handle`. */
export type ValuesHandler = (request: NativeHttpRequest) => Promise<NativeHttpResponse>;

/**
 * Joins headers into the addon's header block: one `name: value` line each.
 * `Headers` and Node.js reject line breaks in names and values.
 */
export function headerBlock(headers: WireHeaders): string {
  let block = "";
  for (const [name, value] of headers) {
    block += `${name}: ${value}\n`;
  }
  return block;
}

/**
 * Reads the addon's response text, laid out like an HTTP/1.1 response without
 * the version: the status, one `name: value` line per header, an empty line,
 * then the body.
 */
export function responseFromWire(text: string): NativeHttpResponse {
  const headEnd = text.indexOf("\n\n");
  const lines = text.slice(0, headEnd).split("\n");
  const headers: WireHeaders = [];
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    const separator = line.indexOf(": ");
    headers.push([line.slice(0, separator), line.slice(separator + 2)]);
  }
  return { status: Number(lines[0]), headers, body: text.slice(headEnd + 2) };
}

/** Builds a Web `Response` from the addon's response value. */
export function responseFromNative(response: NativeHttpResponse): Response {
  const body = NULL_BODY_STATUSES.has(response.status) ? null : response.body;
  return new Response(body, { status: response.status, headers: response.headers });
}

/** Lists the headers as `[name, value]` pairs; names come lowercase, as `Headers` stores them. */
export function headersToWire(headers: Headers): WireHeaders {
  return [...headers];
}

/**
 * Builds the `fetchDispatch` callback over a `fetch` function.
 * `resolveFetch` is called on every request, so a `globalThis.fetch` replaced
 * later (by a test, for example) is used. Network failures reject.
 */
export function fetchDispatchFor(resolveFetch: () => typeof globalThis.fetch): FetchDispatch {
  return async (requestJson) => {
    const request = JSON.parse(requestJson) as WireFetchRequest;
    const hasBody = request.body !== "" && request.method !== "GET" && request.method !== "HEAD";

    const response = await resolveFetch()(request.url, {
      method: request.method,
      headers: request.headers,
      body: hasBody ? request.body : undefined,
    });

    const wire: WireFetchResponse = {
      status: response.status,
      headers: headersToWire(response.headers),
      body: await response.text(),
    };
    return JSON.stringify(wire);
  };
}
