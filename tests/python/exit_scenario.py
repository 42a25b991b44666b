"""Run by test_reliability.py in a fresh interpreter: uses the async runtime, leaves
operations in flight, and exits. The parent checks the exit status and stderr."""

import asyncio
import logging
import socket
import sys
import threading

from werkzeug.serving import make_server

from trustline import AsyncClient, AsyncGuard, AsyncProvider, Client, MemoryStorage

mode = sys.argv[1]
logging.getLogger("werkzeug").setLevel(logging.ERROR)

# A provider over HTTP, for a real JWKS fetch and token request.
server = make_server("127.0.0.1", 0, lambda environ, start: app(environ, start), threaded=True)
url = f"http://127.0.0.1:{server.server_port}"
provider = AsyncProvider(issuer=url, storage=MemoryStorage())
app = provider.wsgi_app()
threading.Thread(target=server.serve_forever, daemon=True).start()

# A server that accepts connections and never responds, to keep requests in flight.
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(16)
silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/token"


async def main():
    created = await provider.clients.create("orders", scopes=["read:orders"])
    client = AsyncClient(token_url=f"{url}/token", client_id=created.client_id, client_secret=created.client_secret)
    token = await client.get_token()
    identity = await AsyncGuard(issuer=url).verify(token)
    assert identity.client_id == created.client_id

    if mode in ("pending", "all"):
        # Left running when the loop closes.
        stuck = AsyncClient(token_url=silent_url, client_id="svc_x", client_secret="secret")
        asyncio.ensure_future(stuck.get_token())
        await asyncio.sleep(0.05)


if mode in ("daemon", "all"):
    blocking = Client(token_url=silent_url, client_id="svc_x", client_secret="secret")
    threading.Thread(target=blocking.get_token, daemon=True).start()

asyncio.run(main())
print("scenario finished")
