"""The streams a worker runs, changed only through its ``on_start`` and ``on_stop`` handlers,
as the orchestrator's assignments say (the TypeScript client's AssignmentApplier).

Not thread-safe on its own: the client calls it under its lock, one assignment at a time.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Dict, List

from orchestrator_stubs import pb
from orchestrator_types import Stream

log = logging.getLogger("orchestrator_client")


class RunningStreams:
    """What runs now, by stream id; ``apply`` stops, then starts, as an assignment asks."""

    def __init__(self, on_start: Callable[[Stream], None], on_stop: Callable[[str], None]):
        self._on_start, self._on_stop = on_start, on_stop
        self.streams: Dict[str, Stream] = {}

    def __len__(self) -> int:
        return len(self.streams)

    def held(self) -> List[pb.HeldStream]:
        """What a hello lists, so that a reconnect keeps what still is ours."""
        return [pb.HeldStream(stream_id=s.id, epoch=s.epoch) for s in self.streams.values()]

    def apply(self, assignment: pb.Assignment) -> None:
        """Every stop before any start; returns once all handlers did (the caller acks then)."""
        add = {s.id: s for s in assignment.add}
        if assignment.full:  # the complete set: anything else we hold is stale
            stop = [i for i in self.streams if i not in add]
        else:
            stop = [i for i in dict.fromkeys(assignment.remove) if i in self.streams]
        for stream_id in stop:
            self.stop(stream_id)
        for s in add.values():
            current = self.streams.get(s.id)
            if current is None:
                self._start(Stream(s.id, s.url, s.name, dict(s.metadata), s.epoch))
            elif current.epoch != s.epoch:  # still ours under a newer grant: no restart
                self.streams[s.id] = dataclasses.replace(current, epoch=s.epoch)

    def _start(self, stream: Stream) -> None:
        try:
            self._on_start(stream)
            self.streams[stream.id] = stream
        except Exception:
            log.exception("on_start(%s) failed; the stream is not running", stream.id)

    def stop(self, stream_id: str) -> None:
        try:
            self._on_stop(stream_id)
        except Exception:  # the orchestrator already considers it gone from here
            log.exception("on_stop(%s) failed; treating it as stopped", stream_id)
        finally:
            self.streams.pop(stream_id, None)

    def stop_all(self) -> None:
        for stream_id in list(self.streams):
            self.stop(stream_id)
