"""The asyncio side of native calls, and the wrapper around event hooks.

A native ``*_async(..., done)`` method runs on trustline's runtime and calls
``done(error, value)`` from a runtime thread. :func:`await_native` turns that into an
awaitable: ``done`` schedules the result onto the caller's event loop with
``loop.call_soon_threadsafe``, so no asyncio object is touched from another thread.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, Callable, Optional, Set

logger = logging.getLogger("trustline")


def _settle(future: "asyncio.Future[Any]", error: Optional[BaseException], value: Any) -> None:
    if future.done():  # The awaiting task was cancelled.
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


async def await_native(start: Callable[..., None], *args: Any) -> Any:
    """Call ``start(*args, done)`` and wait for ``done(error, value)``."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def done(error: Optional[BaseException], value: Any) -> None:
        try:
            loop.call_soon_threadsafe(_settle, future, error, value)
        except RuntimeError:
            # The loop was closed before the operation finished, so no task awaits the result.
            pass

    start(*args, done)
    return await future


class LoopRef:
    """The event loop that an asyncio object was last used from, so that a coroutine
    returned by an event hook can be scheduled on it from a runtime thread."""

    def __init__(self) -> None:
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._tasks: Set["asyncio.Future[Any]"] = set()

    def remember(self) -> None:
        self.loop = asyncio.get_running_loop()

    def schedule(self, awaitable: Any, event_type: str) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            task = asyncio.ensure_future(awaitable)
            self._tasks.add(task)
            task.add_done_callback(self._finished(event_type))
            return
        loop = self.loop
        if loop is None or loop.is_closed():
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            logger.warning("trustline: no event loop to run the async on_event hook for %s", event_type)
            return
        concurrent = asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), loop)
        concurrent.add_done_callback(self._finished(event_type))

    def _finished(self, event_type: str) -> Callable[[Any], None]:
        def finished(future: Any) -> None:
            self._tasks.discard(future)
            if future.cancelled():
                return
            error = future.exception()
            if error is not None:
                logger.error("trustline: the on_event hook raised for %s", event_type, exc_info=error)

        return finished


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable


def event_dispatch(hook: Optional[Callable[[Any], Any]], event_class: type, loops: Optional[LoopRef]) -> Any:
    """Wrap a user's ``on_event`` hook as the native event callback.

    The callback converts the wire dict into ``event_class`` and calls the hook. What
    the hook raises is logged on the ``trustline`` logger and never reaches the
    operation that emitted the event. A coroutine returned by the hook of an asyncio
    object is scheduled on its event loop.
    """
    if hook is None:
        return None
    if not callable(hook):
        raise TypeError(f"on_event must be callable, got {type(hook).__name__}")

    from .models import from_wire

    def dispatch(wire: Any) -> None:
        event_type = wire.get("type", "?") if isinstance(wire, dict) else "?"
        try:
            result = hook(from_wire(event_class, wire))
            if inspect.isawaitable(result):
                if loops is None:
                    if inspect.iscoroutine(result):
                        result.close()
                    logger.warning(
                        "trustline: the on_event hook of a blocking object returned an awaitable for %s; "
                        "use a plain function, or the Async class",
                        event_type,
                    )
                else:
                    loops.schedule(result, event_type)
        except Exception:
            logger.exception("trustline: the on_event hook raised for %s", event_type)

    return dispatch
