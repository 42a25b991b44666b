"""Type checks of public arguments, raising ``TypeError`` with the argument's name.

Value checks that need the core's rules (URLs, scope syntax, names) are left to the
core, which raises ``InvalidArgumentError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import InvalidArgumentError


def type_name(value: Any) -> str:
    return type(value).__name__


def require_str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type_name(value)}")
    return value


def optional_str(value: Any, name: str) -> str | None:
    return None if value is None else require_str(value, name)


def require_callable(value: Any, name: str) -> Any:
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type_name(value)}")
    return value


def optional_seconds(value: Any, name: str) -> int | None:
    """Check a whole, non-negative number of seconds (an ``int``, or a whole ``float``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a whole number of seconds, got {type_name(value)}")
    if isinstance(value, float) and not value.is_integer():
        raise InvalidArgumentError(f"{name} must be a whole number of seconds, got {value}")
    if value < 0:
        raise InvalidArgumentError(f"{name} must be 0 or more seconds, got {value}")
    return int(value)


def str_list(value: Any, name: str) -> list[str]:
    """Check a list (or other iterable, but not a str) of strings."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of str, got {type_name(value)}")
    items = list(value)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{index}] must be a str, got {type_name(item)}")
    return items


def scope_list(value: Any, name: str) -> list[str] | None:
    """Normalize a scope option: a space-separated str or a list of single scopes.

    An empty result means "no scope given" and becomes ``None``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        scopes = value.split()
    else:
        scopes = str_list(value, name)
        for index, scope in enumerate(scopes):
            if not scope or any(character.isspace() for character in scope):
                raise InvalidArgumentError(f"{name}[{index}] must be one scope without spaces, got {scope!r}")
    return scopes or None
