// Real HTTP servers on 127.0.0.1 for the tests. The bridge from node:http to
// a Web Fetch handler is how a user mounts `provider.handle` on a plain Node
// server. The JWKS server serves a document and failures that a test
// controls, and the echo server receives outgoing client requests.

import http from "node:http";

/**
 * Converts a node:http request and its fully read body into a Web `Request`.
 * Repeated headers are kept as separate values (`rawHeaders`), as a proxy would.
 */
export function toWebRequest(req, origin, body) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }

  const init = { method: req.method, headers };
  if (req.method !== "GET" && req.method !== "HEAD" && body.length > 0) {
    init.body = body;
  }
  return new Request(origin + req.url, init);
}

/** Writes a Web `Response` to a node:http response. */
export async function sendWebResponse(res, response) {
  const body = Buffer.from(await response.arrayBuffer());
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    res.setHeader(name, value);
  }
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * Starts an HTTP server on 127.0.0.1 and an ephemeral port that passes every
 * request to `handler(request: Request): Promise<Response>`. The handler can be
 * set after start, because a provider needs the server's origin as its issuer.
 *
 * Each request is logged in `requests` as `{ method, path, headers, body }`.
 * A handler that throws produces a 500 and is recorded in `errors`, so a test can
 * tell a product failure from a transport one.
 */
export async function startServer(handler) {
  const state = { handler, requests: [], errors: [] };

  const server = http.createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      state.requests.push({
        method: req.method,
        path: req.url,
        headers: { ...req.headers },
        body: body.toString("utf8"),
      });
      const request = toWebRequest(req, origin, body);
      const response = await state.handler(request);
      await sendWebResponse(res, response);
    } catch (error) {
      state.errors.push(error);
      res.statusCode = 500;
      res.setHeader("content-type", "text/plain");
      res.end(`test server handler failed: ${error?.stack ?? error}`);
    }
  });

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    port,
    requests: state.requests,
    errors: state.errors,
    setHandler(next) {
      state.handler = next;
    },
    /** Number of logged requests whose path (without query) ends with `suffix`. */
    count(suffix) {
      return state.requests.filter((r) => r.path.split("?")[0].endsWith(suffix)).length;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Starts a JWKS server at `${origin}/.well-known/jwks.json`. The test changes
 * `jwks.document` (the object served), `jwks.delayMs` (to hold concurrent
 * fetches in flight), `jwks.status` and `jwks.rawBody` (to serve a failure or
 * an unparsable body). `jwks.fetches` counts the GETs of the JWKS path.
 */
export async function startJwksServer(document = { keys: [] }) {
  const jwks = { document, delayMs: 0, status: 200, rawBody: null, fetches: 0 };

  const server = await startServer(async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname !== "/.well-known/jwks.json") {
      return new Response("not found", { status: 404 });
    }

    jwks.fetches += 1;
    if (jwks.delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, jwks.delayMs));
    }
    const body = jwks.rawBody ?? JSON.stringify(jwks.document);
    return new Response(body, {
      status: jwks.status,
      headers: { "content-type": "application/json" },
    });
  });

  jwks.url = `${server.origin}/.well-known/jwks.json`;
  jwks.server = server;
  jwks.close = () => server.close();
  return jwks;
}

/**
 * Starts a server that responds to every request with JSON describing it:
 * `{ method, path, headers, body }`. Used as the resource server that
 * `client.fetch` calls.
 */
export async function startEchoServer() {
  return startServer(async (request) => {
    const url = new URL(request.url);
    return Response.json({
      method: request.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    });
  });
}

/**
 * Returns a URL on 127.0.0.1 whose port had a listener a moment ago and has none
 * now, so a connection to it is refused.
 */
export async function closedPortUrl(path = "/.well-known/jwks.json") {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}${path}`;
}
