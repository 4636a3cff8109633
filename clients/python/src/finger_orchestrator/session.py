"""One Connect call on grpc.aio: sends hello, heartbeats once welcomed, and acks each
assignment only after the handlers finished it (revoke-before-assign hinges on that).

Messages are read as they arrive: heartbeat acks and go_away take effect at once, while
assignments wait their turn in order behind a handler that is still running. Assignments still
queued when the call ends are dropped: the next session's full assignment resyncs, and their
seqs mean nothing to a new session anyway.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Callable, Optional, Sequence, Tuple

import grpc
import grpc.aio

from ._generated import orchestrator_pb2 as pb
from ._generated import orchestrator_pb2_grpc as pb_grpc
from .heartbeat import Heartbeats, MetricsSource, heartbeat_interval
from .running import RunningStreams

log = logging.getLogger("finger_orchestrator")

_HALF_CLOSE = object()  # put in the outbox to end the request stream


@dataclasses.dataclass
class SessionEnd:
    code: grpc.StatusCode
    details: str
    welcome: Optional[pb.Welcome] = None
    go_away: Optional[pb.GoAway] = None


class Session:
    def __init__(self, channel: grpc.aio.Channel, metadata: Sequence[Tuple[str, str]], hello: pb.Hello,
                 running: RunningStreams, *, metrics: Optional[MetricsSource], welcome_timeout: float,
                 close_timeout: float, on_welcome: Callable[[pb.Welcome], None],
                 on_renewed: Callable[[float], None]):
        self._channel, self._metadata, self._hello = channel, metadata, hello
        self._running = running
        self._heartbeats = Heartbeats(metrics)
        self._welcome_timeout, self._close_timeout = welcome_timeout, close_timeout
        self._on_welcome, self._on_renewed = on_welcome, on_renewed
        self._outbox: asyncio.Queue = asyncio.Queue()
        self._assignments: asyncio.Queue = asyncio.Queue()
        self._call: Optional[grpc.aio.StreamStreamCall] = None
        self._override: Optional[Tuple[grpc.StatusCode, str]] = None
        self._tasks: list[asyncio.Task] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._ended = asyncio.Event()
        self.open, self.half_closed, self.quiesced = True, False, False
        self.welcome: Optional[pb.Welcome] = None
        self.go_away: Optional[pb.GoAway] = None

    @property
    def welcomed(self) -> bool:
        return self.welcome is not None

    async def run(self) -> SessionEnd:
        """Runs the call to its end (and the assignment being applied then to its own)."""
        loop = asyncio.get_running_loop()
        hello_at = loop.time()
        self._send(hello=self._hello)
        self._call = pb_grpc.OrchestratorServiceStub(self._channel).Connect(
            self._requests(), metadata=self._metadata)
        self._welcome_timer = loop.call_later(self._welcome_timeout, self.cancel, grpc.StatusCode.DEADLINE_EXCEEDED,
                                              f"no welcome within {self._welcome_timeout:g} s")
        self._timers.append(self._welcome_timer)
        applier = asyncio.create_task(self._apply_in_order())
        code, details = grpc.StatusCode.OK, "the server ended the stream"
        try:
            async for response in self._call:
                self._handle(response, hello_at)
            code = await self._call.code()
            details = await self._call.details() or details
        except grpc.aio.AioRpcError as error:
            code, details = error.code(), error.details() or ""
        except asyncio.CancelledError:
            # grpc.aio reads a call we cancelled as CancelledError; a cancel of our own task is not ours to swallow.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            code, details = grpc.StatusCode.CANCELLED, "cancelled by the client"
        finally:
            self.open = False
            self._ended.set()
            for timer in self._timers:
                timer.cancel()
            for task in self._tasks:
                task.cancel()
            self._assignments.put_nowait(None)
            self._outbox.put_nowait(_HALF_CLOSE)  # frees grpc's task waiting on the outbox
        await applier  # a handler is never cut off half-way; the next hello waits for it anyway
        code, details = self._override or (code, details)
        return SessionEnd(code, details, self.welcome, self.go_away)

    def quiesce(self) -> None:
        """Applies no more assignments (the client is leaving); the one in progress finishes."""
        self.quiesced = True

    def cancel(self, code: grpc.StatusCode = grpc.StatusCode.CANCELLED, details: str = "cancelled by the client") -> None:
        """Ends the call from our side; ``code`` and ``details`` are what the session reports."""
        if not self.open or self._call is None:
            return
        self._override = self._override or (code, details)
        self._call.cancel()

    async def leave(self, reason: str, return_within_ms: int) -> None:
        """Sends leave, half-closes and waits (up to the close timeout) for the server to end the call."""
        if not self.open:
            return
        self._send(leave=pb.Leave(reason=reason, return_within_ms=return_within_ms))
        self._half_close()
        try:
            await asyncio.wait_for(self._ended.wait(), self._close_timeout)
        except asyncio.TimeoutError:
            self.cancel(grpc.StatusCode.CANCELLED, f"the server did not end the call within {self._close_timeout:g} s of leave")

    def _handle(self, response: pb.ConnectResponse, hello_at: float) -> None:
        kind = response.WhichOneof("msg")
        if kind == "welcome":
            if self.welcome is not None:
                log.warning("ignoring a second welcome")
                return
            self._welcome_timer.cancel()
            self.welcome = response.welcome
            send = lambda heartbeat, _at: self._send(heartbeat=heartbeat)  # noqa: E731
            self._tasks.append(asyncio.create_task(self._heartbeats.run(
                heartbeat_interval(self.welcome), send, lambda: len(self._running))))
            self._on_welcome(self.welcome)  # first: it learns the lease the renewal arms
            self._on_renewed(hello_at)  # the welcome proves the hello arrived: the lease counts from its sending
        elif kind == "assignment":
            self._assignments.put_nowait(response.assignment)
        elif kind == "heartbeat_ack":
            sent_at = self._heartbeats.acknowledged(response.heartbeat_ack.seq)
            if sent_at is not None:
                self._on_renewed(sent_at)
        elif kind == "go_away":
            go_away = self.go_away = response.go_away
            log.info("the orchestrator sent go_away (%s%s)", go_away.reason,
                     f"; the leader is {go_away.leader_address}" if go_away.leader_address else "")
            self._half_close()
            # The server ends the call after go_away; if it does not, stop waiting for it.
            self._timers.append(asyncio.get_running_loop().call_later(
                self._close_timeout, self.cancel, grpc.StatusCode.CANCELLED, "the server did not end the call after go_away"))
        else:
            log.warning("ignoring an empty or unknown message from the orchestrator")

    async def _apply_in_order(self) -> None:
        while (assignment := await self._assignments.get()) is not None:
            if not self.open or self.quiesced:
                continue
            await self._running.apply(assignment)
            self._send(ack=pb.Ack(seq=assignment.seq))

    def _send(self, **message) -> bool:
        """Queues a message for the call; False once the call ended or was half-closed."""
        if not self.open or self.half_closed:
            return False
        self._outbox.put_nowait(pb.ConnectRequest(**message))
        return True

    def _half_close(self) -> None:
        if self.half_closed:
            return
        self.half_closed = True
        for task in self._tasks:  # no more heartbeats
            task.cancel()
        self._outbox.put_nowait(_HALF_CLOSE)

    async def _requests(self):
        while (item := await self._outbox.get()) is not _HALF_CLOSE:
            yield item
