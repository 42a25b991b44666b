"""Token verification: the trustline Python guard against PyJWT with cryptography.

Both verify the same tokens in one process, with the same checks: the signature
(ES256 or RS256), ``iss``, ``aud``, ``exp``, ``nbf``, ``iat`` and a required ``sub``.
The guard fetched the JWKS once from a provider served on 127.0.0.1, as in a
service; PyJWT gets the same key already parsed (``PyJWK``), as ``PyJWKClient``
caches it.

Each round issues ``--iterations`` new tokens and times both libraries over that
list, alternating which goes first, so every trustline verification is a full one
(the guard keeps verified tokens in a cache, which a token seen before would hit).
A separate figure times the same token verified again, which is the cache hit. The
report gives the median of the rounds and the spread of the per-round ratio.

    python benchmarks/python/bench_verify.py [--rounds 7] [--iterations 1000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import platform
import statistics
import threading
import time
from typing import Any, Callable, Dict, List
from wsgiref.simple_server import WSGIRequestHandler, make_server

import cryptography
import jwt

import trustline
from trustline import AsyncGuard, Guard, MemoryStorage, Provider

ISSUER_PATH = "/auth"
AUDIENCE = "inventory"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def serve(provider_holder: Dict[str, Any]) -> Any:
    def app(environ: Dict[str, Any], start_response: Any) -> Any:
        return provider_holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def token_issuer(provider: Provider, issuer: str) -> Callable[[], str]:
    """Return a function that issues a new token (with a new jti) for one client."""
    created = provider.clients.create("bench", scopes=["read:orders", "write:orders"])
    basic = base64.b64encode(f"{created.client_id}:{created.client_secret}".encode()).decode()
    headers = {"authorization": f"Basic {basic}", "content-type": "application/x-www-form-urlencoded"}

    def issue() -> str:
        response = provider.handle("POST", f"{issuer}/token", headers, f"grant_type=client_credentials&audience={AUDIENCE}")
        return response.json()["access_token"]

    return issue


def time_each(verify: Callable[[str], Any], tokens: List[str]) -> float:
    """Return microseconds per verification over a list of tokens."""
    started = time.perf_counter()
    for token in tokens:
        verify(token)
    return (time.perf_counter() - started) / len(tokens) * 1e6


def time_each_async(guard: AsyncGuard, tokens: List[str]) -> float:
    async def run() -> float:
        started = time.perf_counter()
        for token in tokens:
            await guard.verify(token)
        return (time.perf_counter() - started) / len(tokens) * 1e6

    return asyncio.run(run())


def bench_algorithm(algorithm: str, rounds: int, iterations: int) -> Dict[str, Any]:
    holder: Dict[str, Any] = {}
    server = serve(holder)
    issuer = f"http://127.0.0.1:{server.server_port}{ISSUER_PATH}"
    provider = Provider(issuer=issuer, storage=MemoryStorage(), signing={"algorithm": algorithm})
    holder["app"] = _strip_prefix(provider.wsgi_app())
    issue = token_issuer(provider, issuer)

    guard = Guard(issuer=issuer, audience=AUDIENCE)
    async_guard = AsyncGuard(issuer=issuer, audience=AUDIENCE)
    first = issue()
    guard.verify(first)  # fetches the JWKS once
    asyncio.run(async_guard.verify(first))
    key = jwt.PyJWK(provider.jwks()["keys"][0]).key
    options = {"require": ["exp", "iat", "iss", "sub"]}

    def pyjwt_verify(token: str) -> Any:
        return jwt.decode(token, key, algorithms=[algorithm], audience=AUDIENCE, issuer=issuer, options=options)

    assert pyjwt_verify(first)["sub"] == guard.verify(first).client_id

    ours: List[float] = []
    theirs: List[float] = []
    ours_async: List[float] = []
    cached: List[float] = []
    for round_index in range(rounds):
        tokens = [issue() for _ in range(iterations)]
        if round_index % 2 == 0:
            ours.append(time_each(guard.verify, tokens))
            theirs.append(time_each(pyjwt_verify, tokens))
        else:
            theirs.append(time_each(pyjwt_verify, tokens))
            ours.append(time_each(guard.verify, tokens))
        ours_async.append(time_each_async(async_guard, tokens))
        cached.append(time_each(guard.verify, [tokens[0]] * iterations))
    server.shutdown()

    ratios = [pyjwt_us / ours_us for pyjwt_us, ours_us in zip(theirs, ours)]
    return {
        "algorithm": algorithm,
        "trustline_us": statistics.median(ours),
        "trustline_async_us": statistics.median(ours_async),
        "trustline_cached_us": statistics.median(cached),
        "pyjwt_us": statistics.median(theirs),
        "ratio": statistics.median(theirs) / statistics.median(ours),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "rounds": rounds,
        "iterations": iterations,
    }


def _strip_prefix(app: Any) -> Any:
    """Serve the provider under ISSUER_PATH, as a mounted app would be."""

    def mounted(environ: Dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(ISSUER_PATH):
            environ = dict(environ, SCRIPT_NAME=ISSUER_PATH, PATH_INFO=path[len(ISSUER_PATH):])
        return app(environ, start_response)

    return mounted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--iterations", type=int, default=1000, help="new tokens per round (default 1000)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    arguments = parser.parse_args()

    results = [bench_algorithm(algorithm, arguments.rounds, arguments.iterations) for algorithm in ("ES256", "RS256")]
    environment = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "trustline": trustline.__version__,
        "pyjwt": jwt.__version__,
        "cryptography": cryptography.__version__,
    }
    if arguments.json:
        print(json.dumps({"environment": environment, "results": results}, indent=2))
        return

    print(
        f"Python {environment['python']}, trustline {environment['trustline']}, "
        f"PyJWT {environment['pyjwt']}, cryptography {environment['cryptography']}"
    )
    print(f"{arguments.rounds} rounds of {arguments.iterations} new tokens; median µs per verification\n")
    print(
        "| algorithm | trustline Guard | trustline AsyncGuard | PyJWT | PyJWT / Guard (median) "
        "| spread over rounds | Guard, same token again |"
    )
    print("|---|---|---|---|---|---|---|")
    for result in results:
        print(
            f"| {result['algorithm']} | {result['trustline_us']:.1f} | {result['trustline_async_us']:.1f} | "
            f"{result['pyjwt_us']:.1f} | {result['ratio']:.2f}x | "
            f"{result['ratio_min']:.2f}x to {result['ratio_max']:.2f}x | {result['trustline_cached_us']:.1f} |"
        )


if __name__ == "__main__":
    main()
