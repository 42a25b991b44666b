# Stubs of the native module built from bindings/python/src. They are checked against
# the built module by bindings/python/tools/check_stubs.py (run in tests/python), so a
# name or parameter added, removed or renamed in Rust fails the tests until this file
# follows.
#
# Wire values: records are dicts with camelCase keys and timestamps as epoch
# milliseconds; the Python package converts them to and from dataclasses.

from typing import Any, Callable, List, Optional, Tuple

__version__: str

Wire = Any
Done = Callable[[Optional[BaseException], Any], None]
Response = Tuple[int, List[Tuple[str, str]], str]
Identity = Tuple[str, Optional[str], Tuple[str, ...], Optional[str], dict]

class Storage:
    @staticmethod
    def memory() -> Storage: ...
    @staticmethod
    def sqlite(path: str, tables: Tuple[str, str, str]) -> Storage: ...
    @staticmethod
    def sql(dialect: str, dispatch: Callable[[str, str, List[Any]], Any], tables: Tuple[str, str, str]) -> Storage: ...
    @staticmethod
    def adapter(dispatch: Callable[[str, List[Wire]], Wire]) -> Storage: ...
    def call(self, method: str, args: List[Wire]) -> Wire: ...

class Provider:
    def __new__(
        cls,
        issuer: str,
        storage: Storage,
        *,
        algorithm: Optional[str] = None,
        private_key: Optional[str] = None,
        key_id: Optional[str] = None,
        token_ttl: Optional[int] = None,
        env: Optional[str] = None,
        on_event: Optional[Callable[[Wire], None]] = None,
    ) -> Provider: ...
    def handle(self, method: str, url: str, headers: List[Tuple[str, str]], body: bytes) -> Response: ...
    def handle_async(self, method: str, url: str, headers: List[Tuple[str, str]], body: bytes, done: Done) -> None: ...
    def call(self, operation: str, args: List[Wire]) -> Wire: ...
    def call_async(self, operation: str, args: List[Wire], done: Done) -> None: ...

class Guard:
    def __new__(
        cls,
        issuer: str,
        *,
        jwks_url: Optional[str] = None,
        audience: Optional[List[str]] = None,
        scopes: Optional[List[str]] = None,
        env: Optional[str] = None,
        clock_tolerance: Optional[int] = None,
        storage: Optional[Storage] = None,
        on_event: Optional[Callable[[Wire], None]] = None,
    ) -> Guard: ...
    def verify_local(self, token: str) -> Optional[Identity]: ...
    def verify(self, token: str) -> Identity: ...
    def verify_async(self, token: str, done: Done) -> None: ...

class Client:
    def __new__(
        cls,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        audience: Optional[str] = None,
        scope: Optional[List[str]] = None,
        refresh_skew_seconds: Optional[int] = None,
        cache: Optional[Callable[[str, str, Wire], Wire]] = None,
    ) -> Client: ...
    @property
    def cache_key(self) -> str: ...
    def get_token(self) -> str: ...
    def get_token_local(self) -> Optional[str]: ...
    def get_token_async(self, done: Done) -> None: ...

def _set_error_factory(factory: Callable[[str, str, int, str], BaseException]) -> None: ...
def _shutdown_at_exit() -> None: ...
def _after_fork_in_child() -> None: ...
