"""The streams a worker runs, changed only through its ``on_start`` and ``on_stop`` handlers,
as the orchestrator's assignments say (the TypeScript client's AssignmentApplier).

Handlers may be coroutine functions (awaited; those of one step run concurrently, as a worker
with an asyncio task per stream wants) or plain functions (called on the event loop: keep them
quick, or use the threaded wrapper). Every operation holds one lock, so an assignment never
interleaves with another one or with ``stop_all``, and a hello reports a settled set.
"""
from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
from typing import Any, Awaitable, Callable, Dict, List, Union

from ._generated import orchestrator_pb2 as pb
from .stream import Stream

log = logging.getLogger("finger_orchestrator")

StartHandler = Callable[[Stream], Union[None, Awaitable[None]]]
StopHandler = Callable[[str], Union[None, Awaitable[None]]]


async def _call(handler: Callable[..., Any], *args: Any) -> None:
    result = handler(*args)
    if inspect.isawaitable(result):
        await result


class RunningStreams:
    """What runs now, by stream id; ``apply`` stops, then starts, as an assignment asks."""

    def __init__(self, on_start: StartHandler, on_stop: StopHandler):
        self._on_start, self._on_stop = on_start, on_stop
        self.streams: Dict[str, Stream] = {}
        self.lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self.streams)

    def held(self) -> List[pb.HeldStream]:
        """What a hello lists, so that a reconnect keeps what still is ours."""
        return [pb.HeldStream(stream_id=s.id, epoch=s.epoch) for s in self.streams.values()]

    async def apply(self, assignment: pb.Assignment) -> None:
        """Every stop before any start; returns once all handlers did (the caller acks then).
        An id in both ``remove`` and ``add`` is restarted; one still running under a new
        epoch only takes the epoch (a restart would drop audio for nothing)."""
        async with self.lock:
            add = {s.id: s for s in assignment.add}  # the last one wins, should an id repeat
            if assignment.full:  # the complete set: anything else we hold is stale
                stop = [i for i in self.streams if i not in add]
            else:
                stop = [i for i in dict.fromkeys(assignment.remove) if i in self.streams]
            await self._stop(stop, "revoked")
            start = []
            for s in add.values():
                current = self.streams.get(s.id)
                if current is None:
                    start.append(Stream.from_proto(s))
                elif current.epoch != s.epoch:
                    self.streams[s.id] = dataclasses.replace(current, epoch=s.epoch)
            await asyncio.gather(*(self._start(s) for s in start))

    async def stop_all(self, reason: str) -> List[str]:
        """Stops everything (after the operation in progress); returns the ids stopped."""
        async with self.lock:
            ids = list(self.streams)
            await self._stop(ids, reason)
            return ids

    async def _start(self, stream: Stream) -> None:
        try:
            await _call(self._on_start, stream)
            self.streams[stream.id] = stream
        except Exception:
            log.exception("on_start(%s) failed; the stream is not running", stream.id)

    async def _stop(self, ids: List[str], reason: str) -> None:
        async def stop(stream_id: str) -> None:
            try:
                await _call(self._on_stop, stream_id)
            except Exception:  # the orchestrator already considers it gone from here
                log.exception("on_stop(%s) failed (%s); treating it as stopped", stream_id, reason)
            finally:
                self.streams.pop(stream_id, None)
        if ids:
            log.info("stopping %s (%s)", ", ".join(ids), reason)
        await asyncio.gather(*(stop(i) for i in ids))
