"""``OrchestratorClient``: keeps this instance connected and runs exactly the streams the
orchestrator assigns, as the TypeScript client (src/client/instance-client.ts) does.

    async with OrchestratorClient("orch:50051", "finger_app_1", 20,
                                  on_start=recorder.start, on_stop=recorder.stop) as client:
        await client.serve(sigterm_return_within_ms=60_000)
"""
from __future__ import annotations

import asyncio
import logging
import signal
from typing import Dict, Mapping, Optional, Sequence, Union

import grpc

from ._generated import orchestrator_pb2 as pb
from .addresses import AddressRotation, Resolver, system_resolver
from .errors import HelloRejected
from .heartbeat import MetricsSource
from .lease import LeaseWatchdog
from .metrics import SystemMetrics
from .running import RunningStreams, StartHandler, StopHandler
from .security import ChannelSecurity
from .session import Session, SessionEnd
from .stream import Stream
from .targets import check_return_within_ms

log = logging.getLogger("finger_orchestrator")

MAX_CAPACITY = 10_000


class OrchestratorClient:
    """The instance side of the orchestrator protocol, on asyncio and grpc.aio.

    ``on_start(stream)`` and ``on_stop(stream_id)`` may be coroutine functions (an asyncio task
    per stream: start it in ``on_start``, cancel and await it in ``on_stop``) or plain ones
    (called on the event loop: keep them quick). Within an assignment every stop finishes
    before any start; the ack goes out only after the last handler returned, and the
    orchestrator gives a removed stream to another instance only after that ack, so both must
    return only once the recording really started or stopped. A failing ``on_start`` leaves
    that stream not running; a failing ``on_stop`` counts it stopped.

    ``target``: ``host:port``, or several for orchestrator replicas (a list, or one string
    separated by commas), tried in order, a go_away's leader address next. ``strict``: never
    run a stream the orchestrator may have given to another instance: stop everything once no
    heartbeat was acknowledged for a whole lease (counted from its sending), connected or not.
    Not strict (the default), streams keep running while the orchestrator is unreachable.
    """

    def __init__(self, target: Union[str, Sequence[str]], instance_id: str, capacity: int,
                 on_start: StartHandler, on_stop: StopHandler, *,
                 labels: Optional[Mapping[str, str]] = None, version: str = "",
                 metrics: Optional[MetricsSource] = None, security: Optional[ChannelSecurity] = None,
                 strict: bool = False, backoff_initial: float = 0.1, backoff_max: float = 1.0,
                 slow_retry: float = 15.0, welcome_timeout: float = 15.0, close_timeout: float = 2.0,
                 resolve: Optional[Resolver] = system_resolver):
        self.targets = [t.strip() for t in target.split(",")] if isinstance(target, str) else list(target)
        if not self.targets or not all(self.targets):
            raise ValueError(f"target: no orchestrator address in {target!r}")
        if not 1 <= len(instance_id) <= 128:
            raise ValueError(f"instance_id must be 1 to 128 characters, got {len(instance_id)}")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be a whole number from 0 to {MAX_CAPACITY}, got {capacity!r}")
        if not 0 <= backoff_initial <= backoff_max:
            raise ValueError("backoff: need 0 <= backoff_initial <= backoff_max")
        self.instance_id, self.capacity, self.strict = instance_id, capacity, strict
        self._labels, self._version = dict(labels or {}), version
        self._metrics = metrics if metrics is not None else SystemMetrics()
        self._security = security or ChannelSecurity()
        self._rotation = AddressRotation(self.targets, resolve, backoff_initial=backoff_initial, backoff_max=backoff_max)
        # Refused credentials and a takeover by another process are retried slowly: trying again soon fixes neither.
        self._slow_retry, self._welcome_timeout, self._close_timeout = slow_retry, welcome_timeout, close_timeout
        self._running = RunningStreams(on_start, on_stop)
        self._watchdog = LeaseWatchdog(self._lease_expired)
        self._lease_ttl = 0.0
        self._last_sent_at = 0.0  # loop time the last acknowledged message left
        self._promised_until = 0.0  # a restarting orchestrator's lease extension, until the next renewal
        self._session: Optional[Session] = None
        self._task: Optional[asyncio.Task] = None
        self._leaving: Optional[asyncio.Future] = None
        self._closing = False
        self._wake = asyncio.Event()
        self._done = asyncio.Event()
        self.error: Optional[Exception] = None

    # --- what a worker reads -------------------------------------------------------------
    def running(self) -> Dict[str, Stream]:
        """A snapshot of the streams running now."""
        return dict(self._running.streams)

    @property
    def connected(self) -> bool:
        """True between a welcome and the end of its session."""
        return self._session is not None and self._session.welcomed and self._session.open

    @property
    def session_id(self) -> Optional[str]:
        return self._session.welcome.session_id if self.connected and self._session and self._session.welcome else None

    @property
    def target(self) -> str:
        """The address being dialled or connected to (the leader, once welcomed)."""
        current = self._rotation.current
        return current.address if current else self.targets[0]

    # --- lifecycle -----------------------------------------------------------------------
    async def __aenter__(self) -> "OrchestratorClient":
        self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.leave()

    def start(self) -> None:
        """Starts connecting in the background (a task of the running loop); once only."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"orchestrator-client {self.instance_id}")

    async def wait(self) -> None:
        """Returns once the client stopped (after ``leave()``, or a refusal); raises
        HelloRejected when the orchestrator refused this instance."""
        await self._done.wait()
        if self.error:
            raise self.error

    async def serve(self, sigterm_return_within_ms: int = 0) -> None:
        """Runs until SIGTERM or SIGINT, then leaves: SIGINT (Ctrl-C) with a plain leave, the
        streams move at once; SIGTERM (a container runtime's or systemd's restart) too, unless
        ``sigterm_return_within_ms`` makes it a restart's leave: the streams wait that long,
        unrun, for the next process with this id. A second signal ends the process at once.
        Raises HelloRejected if the orchestrator refused this instance."""
        within = check_return_within_ms(sigterm_return_within_ms, "sigterm_return_within_ms")
        loop = asyncio.get_running_loop()
        received: asyncio.Future = loop.create_future()
        handled = (signal.SIGTERM, signal.SIGINT)

        def on_signal(signum: signal.Signals) -> None:
            for sig in handled:
                loop.remove_signal_handler(sig)  # back to the default: a second signal ends the process
            if not received.done():
                received.set_result(signum)

        for sig in handled:
            loop.add_signal_handler(sig, on_signal, sig)
        self.start()
        done = asyncio.ensure_future(self._done.wait())
        try:
            await asyncio.wait({received, done}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            done.cancel()
            for sig in handled:
                loop.remove_signal_handler(sig)
        if received.done():
            restart = received.result() == signal.SIGTERM and within > 0
            log.info("%s: stopping streams and leaving%s", received.result().name,
                     f" to return within {within} ms" if restart else "")
            await self.leave("restart" if restart else "shutdown", return_within_ms=within if restart else 0)
        await self.wait()

    async def leave(self, reason: str = "shutdown", *, return_within_ms: int = 0) -> None:
        """Stops every stream, sends leave and waits (briefly) for the server to end the call;
        then the client is done. ``return_within_ms`` > 0 says a process with this id says hello
        within that many ms (a restart): the streams wait for it, unrun, and come back under
        their epochs; 0 (a real shutdown) lets them move at once. Idempotent."""
        within = check_return_within_ms(return_within_ms)
        if self._leaving is None:
            self._leaving = asyncio.ensure_future(self._leave(reason, within))
        await asyncio.shield(self._leaving)

    async def _leave(self, reason: str, return_within_ms: int) -> None:
        self._closing = True
        self._wake.set()
        self._watchdog.disarm()
        if self._session:
            self._session.quiesce()
        # Heartbeats keep flowing meanwhile, so a slow stop does not lose the lease half-way.
        stopped = await self._running.stop_all("shutdown")
        session = self._session
        if session and session.welcomed and session.open:
            await session.leave(reason, return_within_ms)
        elif session:
            session.cancel(grpc.StatusCode.CANCELLED, "client closed")
        if self._task:
            await self._task
        self._done.set()
        log.info("left (%s%s), %d streams stopped", reason,
                 f", back within {return_within_ms} ms" if return_within_ms else "", len(stopped))

    # --- the connect loop ----------------------------------------------------------------
    async def _loop(self) -> None:
        try:
            while not self._closing:
                end = await self._run_session()
                if end is None or self._closing:
                    break
                delay = await self._after(end)
                if delay is None or self._closing:
                    break
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except asyncio.TimeoutError:
                    pass
        except HelloRejected as error:
            log.error("%s; not reconnecting", error)
            self.error = error
        except Exception as error:  # never die silently in a background task
            log.exception("connect loop crashed")
            self.error = error
        finally:
            self._done.set()

    async def _run_session(self) -> Optional[SessionEnd]:
        endpoint = await asyncio.to_thread(self._rotation.take)  # may look names up
        async with self._running.lock:  # the hello must report a settled set of running streams
            if self._closing:
                return None
            hello = pb.Hello(instance_id=self.instance_id, capacity=self.capacity, held=self._running.held(),
                             labels=self._labels, version=self._version)
        # A channel per attempt: grpc's own reconnect backoff (up to 2 min) never adds to ours.
        channel = self._security.open_channel(endpoint.address, endpoint.server_name)
        session = self._session = Session(
            channel, self._security.metadata(), hello, self._running, metrics=self._metrics,
            welcome_timeout=self._welcome_timeout, close_timeout=self._close_timeout,
            on_welcome=lambda welcome: self._welcomed(welcome, endpoint.describe()), on_renewed=self._renewed)
        try:
            return await session.run()
        finally:
            self._session = None
            await channel.close()

    def _welcomed(self, welcome: pb.Welcome, where: str) -> None:
        self._lease_ttl = welcome.lease_ttl_ms / 1000
        self._rotation.welcomed()
        log.info("connected to %s as %s (session %s, heartbeat every %.1f s, lease %.1f s%s)", where,
                 self.instance_id, welcome.session_id, welcome.heartbeat_interval_ms / 1000, self._lease_ttl,
                 ", strict" if self.strict else "")

    def _renewed(self, sent_at: float) -> None:
        """The server confirmed a message that left at ``sent_at``: the lease runs from there."""
        self._last_sent_at = max(self._last_sent_at, sent_at)
        self._promised_until = 0.0  # the orchestrator serving now renewed it itself
        self._arm_lease()

    def _arm_lease(self) -> None:
        if self.strict and self._lease_ttl > 0 and not self._closing:
            self._watchdog.arm_at(max(self._last_sent_at + self._lease_ttl, self._promised_until))

    def _lease_expired(self) -> None:
        asyncio.ensure_future(self._stop_on_lost_lease())

    async def _stop_on_lost_lease(self) -> None:
        if self._closing:
            return
        session = self._session if self.connected else None
        if session:
            # No acknowledgement for a whole lease on a session that looks open: the server has
            # given the streams away or will; this session is no use, the next hello starts clean.
            log.warning("no heartbeat acknowledged within the lease (%.1f s); stopping every stream and reconnecting",
                        self._lease_ttl)
            session.cancel(grpc.StatusCode.UNAVAILABLE, "no heartbeat acknowledged within the lease")
        else:
            log.warning("lease lost while disconnected; stopping every stream")
        await self._running.stop_all("lease-lost")

    async def _after(self, end: SessionEnd) -> Optional[float]:
        """Seconds to wait before reconnecting, given how the session ended."""
        code, details, welcomed = end.code, end.details, end.welcome is not None
        if end.go_away is not None:
            extension = end.go_away.lease_extension_ms / 1000
            if self.strict and self._watchdog.deadline is not None and extension > 0:
                # A restarting orchestrator moves none of our streams before then (README).
                self._promised_until = self._last_sent_at + extension
                self._arm_lease()
            return self._rotation.after(welcomed, end.go_away.reconnect_after_ms, end.go_away.leader_address)
        # A bad hello, or credentials naming another instance (or a viewer's token): the worker's
        # configuration is wrong, and reconnecting would only be refused again.
        if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED):
            raise HelloRejected(f"orchestrator rejected instance {self.instance_id!r} ({code.name}: {details})")
        if code == grpc.StatusCode.UNAUTHENTICATED:
            # A missing or unknown token: what a rotation looks like until the server has the new
            # one (it rereads its token files), so keep trying, slowly.
            log.error("the orchestrator refused the credentials (%s: %s); retrying in %.0f s",
                      code.name, details, self._slow_retry)
            return self._slow_retry
        if code == grpc.StatusCode.ABORTED and "superseded" in details.lower():
            # Another process now runs our streams; keeping them too would make two owners.
            log.warning("superseded by another process with id %r: stopping streams, retrying in %.0f s",
                        self.instance_id, self._slow_retry)
            self._watchdog.disarm()
            await self._running.stop_all("superseded")
            return self._slow_retry
        delay = self._rotation.after(welcomed)  # the next replica at once, or the backoff after a cycle
        log.warning("%s %s (%s: %s); retrying in %.2f s", "disconnected from" if welcomed else "could not connect to",
                    self.target, code.name, details, delay)
        return delay
