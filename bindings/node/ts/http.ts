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

/** Reads a Web `Request` (method, URL, headers, whole body) into the addon's request value. */
export async function requestToNative(request: Request): Promise<NativeHttpRequest> {
  if (request === null || typeof request !== "object" || typeof request.arrayBuffer !== "function") {
    throw new TypeError(`handle() expects a Web Fetch API Request, got ${describe(request)}`);
  }

  const body = Buffer.from(await request.arrayBuffer());
  return {
    method: request.method,
    url: request.url,
    headers: headersToWire(request.headers),
    body,
  };
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
