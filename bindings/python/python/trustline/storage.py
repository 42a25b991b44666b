"""Storage of clients, signing keys and revoked token ids.

- :class:`MemoryStorage`: in this process, lost at exit.
- :class:`SqliteStorage`: a SQLite file opened by trustline's bundled SQLite, or your
  own ``sqlite3`` connection.
- :class:`PostgresStorage`: your psycopg 3 connection or ``psycopg_pool`` pool.
- :class:`MySQLStorage`: your PyMySQL connection (MySQL or MariaDB).
- Any object with the methods of the :class:`Storage` protocol.

The SQL backends create the tables ``trustline_clients``, ``trustline_signing_keys``
and ``trustline_revoked_tokens`` when missing. The table names and column formats are
those of the other trustline packages, so one database can serve them all.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, runtime_checkable


from . import _native
from ._time import optional_millis, to_millis
from ._validate import require_str, type_name
from .models import (
    RevokedToken,
    ServiceClient,
    SigningKey,
    field_from_wire,
    from_wire,
    to_wire,
    updates_from_wire,
    updates_to_wire,
)

__all__ = [
    "Storage",
    "NativeStorage",
    "MemoryStorage",
    "SqliteStorage",
    "PostgresStorage",
    "MySQLStorage",
]


@runtime_checkable
class Storage(Protocol):
    """The storage interface. Implement these methods to keep trustline's state in a
    store of your own.

    Methods are plain (blocking) functions. The asyncio classes call them on a worker
    thread, never on the event loop, so a blocking driver is fine. They may be called
    from several threads at once. Timestamps are timezone-aware UTC ``datetime``
    values. Methods that name an unknown client id do nothing.
    """

    def find_client(self, client_id: str) -> Optional[ServiceClient]: ...

    def create_client(self, client: ServiceClient) -> None: ...

    def delete_client(self, client_id: str) -> None: ...

    def list_clients(self) -> List[ServiceClient]:
        """Return every client, oldest first."""
        ...

    def update_client(self, client_id: str, updates: Dict[str, Any]) -> None:
        """Set the fields named in ``updates`` (``ServiceClient`` field names)."""
        ...

    def touch_client(self, client_id: str, last_seen_at: datetime) -> None: ...

    def set_client_active(self, client_id: str, active: bool) -> None: ...

    def set_tokens_invalid_before(self, client_id: str, at: Optional[datetime]) -> None: ...

    def get_signing_keys(self) -> List[SigningKey]: ...

    def add_signing_key(self, key: SigningKey) -> None: ...

    def set_signing_key_not_after(self, key_id: str, not_after: Optional[datetime]) -> None: ...

    def find_revoked_token(self, jti: str) -> Optional[RevokedToken]:
        """Return the revocation of ``jti``; an expired one may be returned or not."""
        ...

    def revoke_token(self, token: RevokedToken) -> None:
        """Remember a revoked ``jti`` until ``token.expires_at``. Revoking twice is no error."""
        ...


_STORAGE_METHODS = (
    "find_client",
    "create_client",
    "delete_client",
    "list_clients",
    "update_client",
    "touch_client",
    "set_client_active",
    "set_tokens_invalid_before",
    "get_signing_keys",
    "add_signing_key",
    "set_signing_key_not_after",
    "find_revoked_token",
    "revoke_token",
)


class NativeStorage:
    """A storage backend run by the native core. Its :class:`Storage` methods block."""

    _native: _native.Storage

    def __init__(self, native: _native.Storage) -> None:
        self._native = native

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def find_client(self, client_id: str) -> Optional[ServiceClient]:
        wire = self._native.call("find_client", [require_str(client_id, "client_id")])
        return None if wire is None else from_wire(ServiceClient, wire)

    def create_client(self, client: ServiceClient) -> None:
        self._native.call("create_client", [to_wire(_require(client, ServiceClient, "client"))])

    def delete_client(self, client_id: str) -> None:
        self._native.call("delete_client", [require_str(client_id, "client_id")])

    def list_clients(self) -> List[ServiceClient]:
        return [from_wire(ServiceClient, wire) for wire in self._native.call("list_clients", [])]

    def update_client(self, client_id: str, updates: Mapping[str, Any]) -> None:
        self._native.call("update_client", [require_str(client_id, "client_id"), updates_to_wire(updates)])

    def touch_client(self, client_id: str, last_seen_at: datetime) -> None:
        self._native.call("touch_client", [require_str(client_id, "client_id"), to_millis(last_seen_at, "last_seen_at")])

    def set_client_active(self, client_id: str, active: bool) -> None:
        self._native.call("set_client_active", [require_str(client_id, "client_id"), bool(active)])

    def set_tokens_invalid_before(self, client_id: str, at: Optional[datetime]) -> None:
        self._native.call("set_tokens_invalid_before", [require_str(client_id, "client_id"), optional_millis(at, "at")])

    def get_signing_keys(self) -> List[SigningKey]:
        return [from_wire(SigningKey, wire) for wire in self._native.call("get_signing_keys", [])]

    def add_signing_key(self, key: SigningKey) -> None:
        self._native.call("add_signing_key", [to_wire(_require(key, SigningKey, "key"))])

    def set_signing_key_not_after(self, key_id: str, not_after: Optional[datetime]) -> None:
        self._native.call(
            "set_signing_key_not_after", [require_str(key_id, "key_id"), optional_millis(not_after, "not_after")]
        )

    def find_revoked_token(self, jti: str) -> Optional[RevokedToken]:
        wire = self._native.call("find_revoked_token", [require_str(jti, "jti")])
        return None if wire is None else from_wire(RevokedToken, wire)

    def revoke_token(self, token: RevokedToken) -> None:
        self._native.call("revoke_token", [to_wire(_require(token, RevokedToken, "token"))])


def _require(value: Any, cls: type, name: str) -> Any:
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, got {type_name(value)}")
    return value


class MemoryStorage(NativeStorage):
    """Storage in this process's memory, for tests and single-process services."""

    def __init__(self) -> None:
        super().__init__(_native.Storage.memory())


def _table_names(table_prefix: str, tables: Optional[Mapping[str, str]]) -> "tuple[str, str, str]":
    require_str(table_prefix, "table_prefix")
    names = {
        "clients": f"{table_prefix}clients",
        "signing_keys": f"{table_prefix}signing_keys",
        "revoked_tokens": f"{table_prefix}revoked_tokens",
    }
    for key, value in (tables or {}).items():
        if key not in names:
            raise TypeError(f"unknown table {key!r} in tables: use clients, signing_keys or revoked_tokens")
        names[key] = require_str(value, f"tables[{key!r}]")
    return (names["clients"], names["signing_keys"], names["revoked_tokens"])


class SqliteStorage(NativeStorage):
    """SQLite storage, from a file path or your own ``sqlite3.Connection``.

    With a path (``str`` or ``os.PathLike``), trustline opens the file with its bundled
    SQLite in WAL mode with a 5-second busy timeout. With a connection, the core's SQL
    runs through it, one statement at a time, and each is committed. Open the
    connection with ``check_same_thread=False``, because trustline calls it from the
    threads its callers run on.
    """

    def __init__(
        self,
        path_or_connection: Any,
        *,
        table_prefix: str = "trustline_",
        tables: Optional[Mapping[str, str]] = None,
    ) -> None:
        names = _table_names(table_prefix, tables)
        if isinstance(path_or_connection, str) or hasattr(path_or_connection, "__fspath__"):
            import os

            path = os.fspath(path_or_connection)
            if isinstance(path, bytes):
                path = os.fsdecode(path)
            if not path.strip():
                raise ValueError("the SQLite path is empty: pass a file path such as 'trustline.sqlite'")
            super().__init__(_native.Storage.sqlite(path, names))
            return

        import sqlite3

        if not isinstance(path_or_connection, sqlite3.Connection):
            raise TypeError(
                "SqliteStorage takes a file path or a sqlite3.Connection, "
                f"got {type_name(path_or_connection)}"
            )
        _check_any_thread(path_or_connection)
        dispatch = _ConnectionDispatch(path_or_connection, translate=None)
        super().__init__(_native.Storage.sql("sqlite", dispatch, names))


def _check_any_thread(connection: Any) -> None:
    """Raise ``ValueError`` unless a sqlite3 connection may be used from other threads."""
    import sqlite3

    failure: List[BaseException] = []

    def probe() -> None:
        try:
            connection.execute("SELECT 1").close()
        except sqlite3.ProgrammingError as error:
            failure.append(error)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    if failure:
        raise ValueError(
            "the sqlite3 connection only works on the thread that created it: "
            "open it with sqlite3.connect(path, check_same_thread=False)"
        )


_NUMBERED_PLACEHOLDER = re.compile(r"\$(\d+)")


def _translate_numbered(sql: str, params: Sequence[Any]) -> "tuple[str, List[Any]]":
    """Rewrite PostgreSQL ``$N`` placeholders into psycopg's ``%s``, reordering params."""
    ordered: List[Any] = []

    def replace(match: "re.Match[str]") -> str:
        ordered.append(params[int(match.group(1)) - 1])
        return "%s"

    text = _NUMBERED_PLACEHOLDER.sub(replace, sql.replace("%", "%%"))
    return text, ordered


def _translate_qmark(sql: str, params: Sequence[Any]) -> "tuple[str, List[Any]]":
    """Rewrite ``?`` placeholders into PyMySQL's ``%s``."""
    return sql.replace("%", "%%").replace("?", "%s"), list(params)


class _ConnectionDispatch:
    """Runs the core's SQL on one DB-API connection, one statement at a time.

    Each statement is committed at once (or rolled back when it fails), because the
    core never needs a transaction across statements.
    """

    def __init__(self, connection: Any, translate: Optional[Callable[[str, Sequence[Any]], Any]]) -> None:
        self._connection = connection
        self._translate = translate
        self._lock = threading.Lock()

    def __call__(self, kind: str, sql: str, params: List[Any]) -> Any:
        if self._translate is not None:
            sql, params = self._translate(sql, params)
        with self._lock:
            return _run(self._connection, kind, sql, params)


def _run(connection: Any, kind: str, sql: str, params: List[Any]) -> Any:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        result = cursor.fetchall() if kind == "query" else cursor.rowcount
        connection.commit()
        return result
    except BaseException:
        try:
            connection.rollback()
        except Exception:  # A broken connection cannot roll back; the first error matters.
            pass
        raise
    finally:
        cursor.close()


class _PoolDispatch:
    """Runs the core's SQL on a connection borrowed from a ``psycopg_pool`` pool."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def __call__(self, kind: str, sql: str, params: List[Any]) -> Any:
        sql, params = _translate_numbered(sql, params)
        with self._pool.connection() as connection:
            return _run(connection, kind, sql, params)


class PostgresStorage(NativeStorage):
    """PostgreSQL storage over your psycopg 3 ``Connection`` or ``psycopg_pool.ConnectionPool``.

    A pool lends a connection for each statement. A single connection is used by one
    statement at a time, so give trustline a connection of its own.
    """

    def __init__(
        self,
        connection_or_pool: Any,
        *,
        table_prefix: str = "trustline_",
        tables: Optional[Mapping[str, str]] = None,
    ) -> None:
        names = _table_names(table_prefix, tables)
        dispatch: Callable[..., Any]
        if hasattr(connection_or_pool, "connection") and hasattr(connection_or_pool, "getconn"):
            dispatch = _PoolDispatch(connection_or_pool)
        elif hasattr(connection_or_pool, "cursor") and hasattr(connection_or_pool, "commit"):
            dispatch = _ConnectionDispatch(connection_or_pool, translate=_translate_numbered)
        else:
            raise TypeError(
                "PostgresStorage takes a psycopg.Connection or a psycopg_pool.ConnectionPool, "
                f"got {type_name(connection_or_pool)}"
            )
        super().__init__(_native.Storage.sql("postgres", dispatch, names))


class MySQLStorage(NativeStorage):
    """MySQL or MariaDB storage over your PyMySQL connection.

    The connection is used by one statement at a time, so give trustline a connection
    of its own.
    """

    def __init__(
        self,
        connection: Any,
        *,
        table_prefix: str = "trustline_",
        tables: Optional[Mapping[str, str]] = None,
    ) -> None:
        names = _table_names(table_prefix, tables)
        if not (hasattr(connection, "cursor") and hasattr(connection, "commit")):
            raise TypeError(f"MySQLStorage takes a PyMySQL connection, got {type_name(connection)}")
        dispatch = _ConnectionDispatch(connection, translate=_translate_qmark)
        super().__init__(_native.Storage.sql("mysql", dispatch, names))


class _UserStorageDispatch:
    """Calls a user's :class:`Storage` object with Python values, for the native module,
    which passes and expects wire values."""

    def __init__(self, storage: Any) -> None:
        missing = [name for name in _STORAGE_METHODS if not callable(getattr(storage, name, None))]
        if missing:
            raise TypeError(
                f"storage {type_name(storage)} is not a Storage: it lacks the methods {', '.join(missing)}"
            )
        self._storage = storage

    def __call__(self, method: str, args: List[Any]) -> Any:
        storage = self._storage
        if method == "find_client":
            return _optional_wire(storage.find_client(args[0]), ServiceClient)
        if method == "create_client":
            return storage.create_client(from_wire(ServiceClient, args[0]))
        if method == "delete_client":
            return storage.delete_client(args[0])
        if method == "list_clients":
            return [_wire_of(client, ServiceClient) for client in storage.list_clients()]
        if method == "update_client":
            return storage.update_client(args[0], updates_from_wire(args[1]))
        if method in ("touch_client", "set_tokens_invalid_before", "set_signing_key_not_after"):
            name = {"touch_client": "last_seen_at", "set_tokens_invalid_before": "tokens_invalid_before"}.get(
                method, "not_after"
            )
            return getattr(storage, method)(args[0], field_from_wire(name, args[1]))
        if method == "set_client_active":
            return storage.set_client_active(args[0], args[1])
        if method == "get_signing_keys":
            return [_wire_of(key, SigningKey) for key in storage.get_signing_keys()]
        if method == "add_signing_key":
            return storage.add_signing_key(from_wire(SigningKey, args[0]))
        if method == "find_revoked_token":
            return _optional_wire(storage.find_revoked_token(args[0]), RevokedToken)
        if method == "revoke_token":
            return storage.revoke_token(from_wire(RevokedToken, args[0]))
        raise ValueError(f"unknown storage method {method!r}")


def _wire_of(record: Any, cls: type) -> Dict[str, Any]:
    if not isinstance(record, cls):
        raise TypeError(f"expected a {cls.__name__}, got {type_name(record)}")
    return to_wire(record)


def _optional_wire(record: Any, cls: type) -> Optional[Dict[str, Any]]:
    return None if record is None else _wire_of(record, cls)


def native_storage(storage: Any, name: str = "storage") -> _native.Storage:
    """Return the native handle of a storage backend, wrapping a user's object."""
    if isinstance(storage, NativeStorage):
        return storage._native
    if storage is None:
        raise TypeError(f"{name} is missing: pass MemoryStorage(), SqliteStorage(path) or a Storage object")
    return _native.Storage.adapter(_UserStorageDispatch(storage))
