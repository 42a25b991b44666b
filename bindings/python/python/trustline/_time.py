"""Conversions between timezone-aware ``datetime`` values and epoch milliseconds, the
form in which timestamps cross into the native module."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .errors import InvalidArgumentError

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)


def from_millis(millis: int | None) -> datetime | None:
    """Convert epoch milliseconds into a UTC ``datetime``; ``None`` stays ``None``."""
    if millis is None:
        return None
    return EPOCH + timedelta(milliseconds=millis)


def to_millis(value: datetime, name: str) -> int:
    """Convert an aware ``datetime`` into epoch milliseconds, rounding down."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgumentError(
            f"{name} is a naive datetime: pass a timezone-aware one, such as datetime.now(timezone.utc)"
        )
    return (value - EPOCH) // _MILLISECOND


def optional_millis(value: datetime | None, name: str) -> int | None:
    """Like :func:`to_millis`, but ``None`` stays ``None``."""
    return None if value is None else to_millis(value, name)
