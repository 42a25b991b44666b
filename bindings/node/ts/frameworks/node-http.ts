/**
 * Conversions between Node.js `http` messages and Web Fetch API objects, for
 * the adapters of frameworks built on `node:http` (Express, Fastify).
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { HANDLE_VALUES, REQUEST_BODY_READ_BYTES, type ValuesHandler } from "../http.js";
import type { NativeHttpRequest, NativeHttpResponse, WireHeaders } from "../native-types.js";

/** Headers that describe the original transfer, which a rebuilt body no longer matches. */
const TRANSFER_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

/** Methods whose requests carry no body. */
const BODILESS_METHODS = new Set(["GET", "HEAD"]);

/** The provider's entry point for plain values, when it has one (see `HANDLE_VALUES`). */
export function valuesHandlerOf(provider: object): ValuesHandler | undefined {
  const handler = (provider as { [HANDLE_VALUES]?: unknown })[HANDLE_VALUES];
  return typeof handler === "function" ? (handler as ValuesHandler) : undefined;
}

/**
 * Reads a Node.js request into the provider's plain request value: the same
 * headers, combined per name as `Headers` combines them, and the same body
 * limit as `webRequestFromNode` followed by `handle`. Past the limit, the rest
 * of the body is read and dropped, so that the client receives the 413 and
 * the connection can serve the next request.
 */
export async function valuesRequestFromNode(
  raw: IncomingMessage,
  url: string,
  body: Readable | string | Uint8Array | null,
): Promise<NativeHttpRequest> {
  const combined = new Map<string, string>();
  for (let index = 0; index + 1 < raw.rawHeaders.length; index += 2) {
    const name = raw.rawHeaders[index]!.toLowerCase();
    if (!TRANSFER_HEADERS.has(name)) {
      const value = raw.rawHeaders[index + 1]!.trim();
      const previous = combined.get(name);
      combined.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
  }
  const headers: WireHeaders = [...combined];

  const method = raw.method ?? "GET";
  const limit = REQUEST_BODY_READ_BYTES;
  let bytes: Buffer;
  if (BODILESS_METHODS.has(method) || body === null) {
    bytes = Buffer.alloc(0);
  } else if (body instanceof Readable) {
    bytes = await readUpTo(body, limit);
  } else {
    const whole = typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    bytes = whole.subarray(0, limit);
  }
  return { method, url, headers, body: bytes };
}

/** Reads at most `maxBytes` of a body stream, then drops whatever follows. */
function readUpTo(body: Readable, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = () => {
      body.off("data", onData);
      body.off("end", finish);
      body.off("error", onError);
      body.on("error", () => {});
      // Keeps reading, dropping the chunks, to the end of the body.
      body.resume();
      resolve(Buffer.concat(chunks, length).subarray(0, maxBytes));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.byteLength;
      if (length >= maxBytes) {
        finish();
      }
    };
    const onError = (error: Error) => {
      body.off("data", onData);
      body.off("end", finish);
      reject(error);
    };
    body.on("data", onData);
    body.on("end", finish);
    body.on("error", onError);
  });
}

/**
 * Builds a Web `Request` from a Node.js request. `body` is either a stream of
 * the raw body, still unread (the provider reads only as much as its size
 * limit allows), or bytes rebuilt from a body that a parser already read.
 * Repeated headers stay separate values, as `rawHeaders` has them. `res` is
 * the response to the request: once it is sent, what the provider left of
 * the body is read and dropped, so the connection can serve the next request.
 */
export function webRequestFromNode(
  raw: IncomingMessage,
  res: ServerResponse,
  url: string,
  body: Readable | string | Uint8Array | null,
): Request {
  const headers = new Headers();
  for (let index = 0; index + 1 < raw.rawHeaders.length; index += 2) {
    const name = raw.rawHeaders[index]!;
    if (!TRANSFER_HEADERS.has(name.toLowerCase())) {
      headers.append(name, raw.rawHeaders[index + 1]!);
    }
  }

  const method = raw.method ?? "GET";
  if (BODILESS_METHODS.has(method) || body === null) {
    return new Request(url, { method, headers });
  }
  if (body instanceof Readable) {
    return new Request(url, { method, headers, body: webStreamOf(body, res), duplex: "half" } as RequestInit);
  }
  return new Request(url, { method, headers, body });
}

/**
 * Wraps a Node.js body stream in a Web stream that reads on demand. Unlike
 * `Readable.toWeb`, cancelling it, or leaving it unread until `res` is sent,
 * drains the rest of the body instead of destroying the socket, as Node.js
 * does with a body that no handler read.
 */
function webStreamOf(body: Readable, res: ServerResponse): ReadableStream<Uint8Array> {
  const onData = (chunk: Buffer) => {
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((controller.desiredSize ?? 0) <= 0) {
      body.pause();
    }
  };
  const onEnd = () => {
    detach();
    controller.close();
  };
  const onError = (error: Error) => {
    detach();
    controller.error(error);
  };
  const detach = () => {
    body.off("data", onData);
    body.off("end", onEnd);
    body.off("error", onError);
    res.off("finish", drain);
  };
  const drain = () => {
    detach();
    body.resume();
  };

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  return new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
        body.pause();
        body.on("data", onData);
        body.on("end", onEnd);
        body.on("error", onError);
        res.once("finish", drain);
      },
      pull() {
        body.resume();
      },
      cancel() {
        drain();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/**
 * Returns true when a body parser has already read the request stream, so
 * the body must be rebuilt from the parsed value. body-parser 1.x (Express 4)
 * marks the request with `_body`; 2.x (Express 5) checks that the stream
 * ended, as this does.
 */
export function bodyWasRead(raw: IncomingMessage): boolean {
  return (raw as IncomingMessage & { _body?: unknown })._body === true || raw.readableEnded;
}

/**
 * Encodes a body that a parser already turned into a value. An object under
 * a form content type becomes `application/x-www-form-urlencoded` again, with
 * repeated names for arrays (so that the provider still sees a repeated
 * parameter) and `a[b]` names for nested objects, as `qs` reads them. Any
 * other object becomes JSON, which the token endpoint rejects for its
 * content type, as it would the original. Strings and bytes pass unchanged.
 */
export function encodeParsedBody(body: unknown, contentType: string | undefined): string | Uint8Array | null {
  if (body === undefined || body === null) {
    return null;
  }
  if (typeof body === "string" || body instanceof Uint8Array) {
    return body;
  }

  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType === "application/x-www-form-urlencoded" && typeof body === "object") {
    const form = new URLSearchParams();
    appendFormFields(form, "", body);
    return form.toString();
  }
  return JSON.stringify(body);
}

function appendFormFields(form: URLSearchParams, name: string, value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      appendFormFields(form, name, item);
    }
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      appendFormFields(form, name === "" ? key : `${name}[${key}]`, item);
    }
    return;
  }
  form.append(name, value === undefined || value === null ? "" : String(value));
}

/** Writes the provider's plain response value to a Node.js response. */
export function writeValuesResponse(res: ServerResponse, response: NativeHttpResponse): void {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    res.setHeader(name, value);
  }
  res.end(response.body);
}

/** Writes a Web `Response` to a Node.js response, streaming its body. */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    res.setHeader(name, value);
  }

  if (response.body === null) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as Parameters<typeof Readable.fromWeb>[0]), res);
}
