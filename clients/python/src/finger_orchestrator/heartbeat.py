"""What a session's heartbeats carry and when they leave: a fixed schedule at the interval the
server dictates (the server gives no new streams to an instance whose heartbeat is half an
interval late, so the time metrics take must not add up), the metrics callback's latest
answer, and a ``seq`` per heartbeat so that its ``heartbeat_ack`` tells when the lease was
renewed (strict mode counts the lease from the *sending* of the last acknowledged one)."""
from __future__ import annotations

import asyncio
import inspect
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Mapping, Optional, Union

from ._generated import orchestrator_pb2 as pb

log = logging.getLogger("finger_orchestrator")

MetricsSource = Callable[[], Union[Mapping[str, Any], Awaitable[Mapping[str, Any]]]]
_MAX_IN_FLIGHT = 64  # unanswered heartbeats are forgotten after a while: only the newest matter


def heartbeat_interval(welcome: pb.Welcome) -> float:
    """Seconds between heartbeats: the server's interval; without one, a third of the lease."""
    if welcome.heartbeat_interval_ms:
        return welcome.heartbeat_interval_ms / 1000
    return welcome.lease_ttl_ms / 3000 if welcome.lease_ttl_ms else 5.0


class Heartbeats:
    """Builds one session's heartbeats and remembers when each left until it is acknowledged.

    The metrics callback (plain or coroutine function returning the proto's field names) runs
    one call at a time; a heartbeat waits for it at most a tenth of an interval, then goes with
    the last metrics known. One that raises sends the heartbeat without metrics."""

    def __init__(self, metrics: Optional[MetricsSource]):
        self._metrics = metrics
        self._sampling: Optional[asyncio.Task] = None
        self._latest: Optional[pb.SystemMetrics] = None
        self._seq = 0
        self._in_flight: "OrderedDict[int, float]" = OrderedDict()

    async def run(self, interval: float, send: Callable[[pb.Heartbeat, float], bool],
                  running: Callable[[], int]) -> None:
        """Sends until cancelled or ``send`` returns False; ``send`` gets the heartbeat and the
        (loop) time it leaves at."""
        loop = asyncio.get_running_loop()
        next_at = loop.time() + interval
        try:
            while True:
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                next_at = max(next_at + interval, loop.time())
                metrics = await self._sample(interval / 10)
                self._seq += 1
                while len(self._in_flight) >= _MAX_IN_FLIGHT:
                    self._in_flight.popitem(last=False)
                now = loop.time()
                self._in_flight[self._seq] = now
                if not send(pb.Heartbeat(metrics=metrics, running_streams=running(), seq=self._seq), now):
                    return
        finally:
            if self._sampling:
                self._sampling.cancel()

    def acknowledged(self, seq: int) -> Optional[float]:
        """When the heartbeat ``seq`` left (None if unknown); forgets it and every earlier one."""
        sent_at = self._in_flight.get(seq)
        for pending in [s for s in self._in_flight if s <= seq]:
            del self._in_flight[pending]
        return sent_at

    async def _sample(self, budget: float) -> Optional[pb.SystemMetrics]:
        if self._metrics is None:
            return None
        if self._sampling is None:
            self._sampling = asyncio.ensure_future(self._sample_once())
        done, _ = await asyncio.wait({self._sampling}, timeout=budget)
        if done:
            self._latest, self._sampling = self._sampling.result(), None
        return self._latest

    async def _sample_once(self) -> Optional[pb.SystemMetrics]:
        try:
            values = self._metrics()  # type: ignore[misc]
            if inspect.isawaitable(values):
                values = await values
            return pb.SystemMetrics(**values)
        except Exception:  # a broken metrics callback must not cost us the lease
            log.exception("metrics failed; heartbeat sent without them")
            return None
