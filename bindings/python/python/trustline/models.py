"""Result and record types: frozen dataclasses with UTC ``datetime`` fields.

Fields that hold a secret, a secret hash, a private key or a token are left out of
``repr()``, so printing or logging one of these objects shows no credential.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Mapping, Optional, Tuple

from ._time import from_millis, optional_millis

__all__ = [
    "ServiceIdentity",
    "ProviderClient",
    "CreatedClient",
    "RotatedSecret",
    "RotatedKey",
    "SigningOptions",
    "Event",
    "ProviderEvent",
    "GuardEvent",
    "ServiceClient",
    "SigningKey",
    "RevokedToken",
    "CachedClientToken",
    "HttpResponse",
]


@dataclass(frozen=True)
class ServiceIdentity:
    """The verified identity of an access token's caller."""

    client_id: str
    """The ``sub`` claim: the caller's client id."""
    name: Optional[str]
    """The ``name`` claim: the caller's client name."""
    scopes: Tuple[str, ...]
    """The scopes granted in the ``scope`` claim."""
    env: Optional[str]
    """The ``env`` claim."""
    raw: Dict[str, Any] = field(compare=False)
    """Every claim of the token, decoded."""


@dataclass(frozen=True)
class ProviderClient:
    """A registered service client as administrators see it: never a secret or a hash."""

    id: str
    client_id: str
    name: str
    scopes: Tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    last_seen_at: Optional[datetime]
    current_secret_created_at: datetime
    current_secret_last_used_at: Optional[datetime]
    next_secret_created_at: Optional[datetime]
    next_secret_expires_at: Optional[datetime]
    next_secret_last_used_at: Optional[datetime]
    secret_last_rotated_at: Optional[datetime]
    active: bool
    tokens_invalid_before: Optional[datetime]
    has_pending_secret_rotation: bool


@dataclass(frozen=True)
class CreatedClient:
    """A new client and its secret. The secret is shown only this once."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class RotatedSecret:
    """A client's new secret, shown only this once.

    ``expires_at`` is when the previous secret stops working, or ``None`` when it
    stopped at once (``overlap_seconds=0``).
    """

    client_id: str
    client_secret: str = field(repr=False)
    expires_at: Optional[datetime] = None


@dataclass(frozen=True)
class RotatedKey:
    """The id of a newly added signing key."""

    key_id: str


@dataclass(frozen=True)
class SigningOptions:
    """Options of the provider's first signing key.

    ``algorithm`` is ``"ES256"`` (default) or ``"RS256"``. With ``private_key`` (a
    PKCS#8 PEM), that key is imported instead of generating one; ``key_id`` names it
    (default ``key_`` followed by a UUIDv7).
    """

    algorithm: Optional[str] = None
    private_key: Optional[str] = field(default=None, repr=False)
    key_id: Optional[str] = None


@dataclass(frozen=True)
class Event:
    """A provider or guard event. Events never carry secrets or tokens."""

    type: str
    """For example ``token.issued`` or ``token.verification_failed``."""
    timestamp: datetime
    issuer: str
    outcome: str
    """``"success"`` or ``"failure"``."""
    client_id: Optional[str] = None
    audience: Optional[str] = None
    reason_code: Optional[str] = None
    """The error code of a failure."""
    metadata: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderEvent(Event):
    """An event of the provider, such as ``client.created`` or ``token.issued``."""


@dataclass(frozen=True)
class GuardEvent(Event):
    """An event of the guard, such as ``token.verified`` or ``jwks.refreshed``."""


@dataclass(frozen=True)
class ServiceClient:
    """A client record as storage keeps it, including its secret hashes."""

    id: str
    client_id: str
    name: str
    scopes: Tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    last_seen_at: Optional[datetime]
    current_secret_hash: str = field(repr=False)
    current_secret_created_at: datetime
    current_secret_last_used_at: Optional[datetime]
    next_secret_hash: Optional[str] = field(repr=False)
    next_secret_created_at: Optional[datetime]
    next_secret_expires_at: Optional[datetime]
    next_secret_last_used_at: Optional[datetime]
    secret_last_rotated_at: Optional[datetime]
    active: bool
    tokens_invalid_before: Optional[datetime]


@dataclass(frozen=True)
class SigningKey:
    """A stored signing key: PKCS#8 private and SPKI public PEM."""

    key_id: str
    algorithm: str
    private_key: str = field(repr=False)
    public_key: str
    created_at: datetime
    not_before: datetime
    not_after: Optional[datetime]


@dataclass(frozen=True)
class RevokedToken:
    """A revoked token id, remembered until the token would have expired anyway."""

    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class CachedClientToken:
    """A cached access token and when to fetch a new one."""

    token: str = field(repr=False)
    refresh_at: datetime


@dataclass(frozen=True)
class HttpResponse:
    """A response of :meth:`Provider.handle`. Every body the provider sends is JSON."""

    status: int
    headers: Tuple[Tuple[str, str], ...]
    body: str

    def header(self, name: str) -> Optional[str]:
        """Return the first value of a header, by case-insensitive name."""
        wanted = name.lower()
        for header_name, value in self.headers:
            if header_name.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        """Parse the body as JSON."""
        import json

        return json.loads(self.body)


# ---------------------------------------------------------------------------
# Wire form: the dicts that cross into the native module use camelCase keys and
# epoch milliseconds.

_DATETIME_FIELDS = frozenset(
    {
        "created_at",
        "updated_at",
        "last_seen_at",
        "current_secret_created_at",
        "current_secret_last_used_at",
        "next_secret_created_at",
        "next_secret_expires_at",
        "next_secret_last_used_at",
        "secret_last_rotated_at",
        "tokens_invalid_before",
        "not_before",
        "not_after",
        "expires_at",
        "refresh_at",
        "timestamp",
    }
)
_TUPLE_FIELDS = frozenset({"scopes"})


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_CAMEL_NAMES: Dict[str, str] = {}


def _camel(name: str) -> str:
    camel = _CAMEL_NAMES.get(name)
    if camel is None:
        camel = _CAMEL_NAMES[name] = camel_case(name)
    return camel


def field_from_wire(name: str, value: Any) -> Any:
    """Convert one wire value to its Python form, by snake_case field name."""
    if name in _DATETIME_FIELDS:
        return from_millis(value)
    if name in _TUPLE_FIELDS and value is not None:
        return tuple(value)
    return value


def field_to_wire(name: str, value: Any) -> Any:
    """Convert one Python value to its wire form, by snake_case field name."""
    if name in _DATETIME_FIELDS:
        return optional_millis(value, name)
    if name in _TUPLE_FIELDS and value is not None:
        return list(value)
    return value


def from_wire(cls: Any, wire: Mapping[str, Any]) -> Any:
    """Build a dataclass from a wire dict, ignoring keys it has no field for."""
    values = {}
    for item in dataclasses.fields(cls):
        camel = _camel(item.name)
        if camel in wire:
            values[item.name] = field_from_wire(item.name, wire[camel])
    return cls(**values)


def to_wire(record: Any) -> Dict[str, Any]:
    """Convert a dataclass record into its wire dict."""
    return {
        _camel(item.name): field_to_wire(item.name, getattr(record, item.name))
        for item in dataclasses.fields(record)
    }


def updates_to_wire(updates: Mapping[str, Any]) -> Dict[str, Any]:
    """Convert a snake_case update dict of a client into its wire dict."""
    return {_camel(name): field_to_wire(name, value) for name, value in updates.items()}


def updates_from_wire(wire: Mapping[str, Any]) -> Dict[str, Any]:
    """Convert a wire update dict into snake_case keys and Python values."""
    names = {_camel(item.name): item.name for item in dataclasses.fields(ServiceClient)}
    updates = {}
    for camel, value in wire.items():
        name = names.get(camel)
        if name is not None:
            updates[name] = field_from_wire(name, value)
    return updates
