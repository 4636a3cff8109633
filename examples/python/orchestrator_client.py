"""A small finger-orchestrator client for Python fingerprinting workers.

The orchestrator decides which instance records which radio stream. This module keeps the
one long-lived ``Connect`` stream open and turns what the orchestrator says into two calls
into the worker: ``on_start(stream)`` and ``on_stop(stream_id)``. See README.md beside it.

Threads: one runs the connect loop (reads the stream, applies assignments one after
another), one per session sends heartbeats; ``serve()`` keeps the main thread for signals.
"""
from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from typing import Callable, Dict, Optional, Sequence, Union

from orchestrator_stubs import grpc, pb, pb_grpc  # first: it says how to fix a missing grpcio
from channel_security import ChannelSecurity, security_from_env  # noqa: F401 (re-exported)
from orchestrator_addresses import AddressRotation, Endpoint, Resolver, system_resolver
from running_streams import RunningStreams
from system_metrics import Metrics, SystemMetrics
# Re-exported: workers import these from here.
from orchestrator_types import (DEFAULT_PORT, HelloRejected, Stream, check_return_within_ms,  # noqa: F401
                                parse_target, parse_targets)

log = logging.getLogger("orchestrator_client")

_HALF_CLOSE = object()  # put in a session's outbox to end the request stream


class _Session:
    """One Connect call: an outbox the gRPC request iterator drains, plus what the server said."""

    def __init__(self, hello: pb.Hello, endpoint: Endpoint):
        self.endpoint = endpoint
        self.outbox: queue.Queue = queue.Queue()
        self.call = None
        self.welcome: Optional[pb.Welcome] = None
        self.go_away: Optional[pb.GoAway] = None
        self.code, self.details = grpc.StatusCode.OK, "the server ended the stream"
        self.stop_beating = threading.Event()
        self.send(hello=hello)

    def send(self, **message) -> None:
        self.outbox.put(pb.ConnectRequest(**message))

    def half_close(self) -> None:
        self.stop_beating.set()
        self.outbox.put(_HALF_CLOSE)

    def requests(self):
        while (item := self.outbox.get()) is not _HALF_CLOSE:
            yield item


class OrchestratorClient:
    """Keeps this instance connected and runs exactly the streams the orchestrator assigns.

    ``on_start(stream)`` and ``on_stop(stream_id)`` are called one at a time, removals first;
    the orchestrator hands a removed stream to another instance only after our ack, so both
    must return only once the recording really started or stopped. A failing ``on_start``
    leaves that stream not running (the next hello and heartbeat tell the orchestrator).

    ``target`` is ``host:port``, or several for orchestrator replicas (a list, or one string
    separated by commas): tried in order until one welcomes, a go_away's leader address next
    (orchestrator_addresses.py). ``resolve`` lists a host name's address records (None: dial
    names as they are); a name with several counts as that many addresses.
    """

    def __init__(self, target: Union[str, Sequence[str]], instance_id: str, capacity: int,
                 on_start: Callable[[Stream], None], on_stop: Callable[[str], None], *,
                 labels: Optional[Dict[str, str]] = None, version: str = "",
                 metrics: Optional[Callable[[], Metrics]] = None, secure: bool = False,
                 security: Optional[ChannelSecurity] = None,
                 backoff_initial: float = 0.1, backoff_max: float = 1.0, slow_retry: float = 15.0,
                 welcome_timeout: float = 15.0, close_timeout: float = 2.0,
                 resolve: Optional[Resolver] = system_resolver):
        self.targets = [t.strip() for t in target.split(",")] if isinstance(target, str) else list(target)
        self.instance_id, self.capacity = instance_id, capacity
        self._labels, self._version = dict(labels or {}), version
        self._metrics = metrics or SystemMetrics()
        self._security = security or ChannelSecurity(tls=secure)  # secure=True: TLS, default roots
        self._rotation = AddressRotation(self.targets, resolve, backoff_initial=backoff_initial, backoff_max=backoff_max)
        # Refused credentials and a takeover by another process are retried slowly, not on the
        # network backoff: neither is fixed by trying again soon.
        self._slow_retry = slow_retry
        self._welcome_timeout, self._close_timeout = welcome_timeout, close_timeout
        self._running = RunningStreams(on_start, on_stop)
        self._lock = threading.Lock()  # one assignment (or the final stop) at a time
        self._closing = threading.Event()
        self._done = threading.Event()
        self._session: Optional[_Session] = None
        self._thread: Optional[threading.Thread] = None
        self.error: Optional[Exception] = None

    @property
    def target(self) -> str:
        """The address being dialled or connected to (the leader, once welcomed); before the
        first attempt, the first one configured."""
        current = self._rotation.current
        return current.address if current else self.targets[0]

    def running(self) -> Dict[str, Stream]:
        """A snapshot of the streams running now."""
        with self._lock:
            return dict(self._running.streams)

    def start(self) -> None:
        """Connects in a background thread; reconnects until close() or a rejected hello."""
        self._thread = threading.Thread(target=self._loop, name="orchestrator-client", daemon=True)
        self._thread.start()

    def serve(self, sigterm_return_within_ms: int = 0) -> None:
        """Runs until SIGTERM or SIGINT, then close(): SIGINT (Ctrl-C) is a plain leave, the
        streams move at once; SIGTERM (a container runtime's or systemd's restart) too, unless
        ``sigterm_return_within_ms`` makes it a restart's leave with that return_within_ms.
        Main thread only. Raises HelloRejected if the orchestrator refused this instance."""
        check_return_within_ms(sigterm_return_within_ms, "sigterm_return_within_ms")
        received: list = []  # per signal: whether it means a restart; the first one decides
        handled = (signal.SIGTERM, signal.SIGINT)

        def on_signal(signum, _frame):
            restart = signum == signal.SIGTERM and sigterm_return_within_ms > 0
            log.info("%s: stopping streams and leaving%s", signal.Signals(signum).name,
                     f" to return within {sigterm_return_within_ms} ms" if restart else "")
            received.append(restart)
            for sig in handled:  # a second signal ends the process at once
                signal.signal(sig, signal.SIG_DFL)

        previous = {sig: signal.signal(sig, on_signal) for sig in handled}
        self.start()
        try:
            while not received and not self._done.is_set():
                self._done.wait(0.2)
        finally:
            within = sigterm_return_within_ms if received[:1] == [True] else 0
            self.close("restart" if within else "shutdown", return_within_ms=within)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self.error:
            raise self.error

    def close(self, reason: str = "shutdown", *, return_within_ms: int = 0) -> None:
        """Stops every stream, sends leave and waits (briefly) for the server to end the call.
        ``return_within_ms`` > 0 says a process with this id says hello within that many ms (a
        restart): the streams wait for it, unrun, and come back with their epochs; 0 (a real
        shutdown) lets them move at once. The TypeScript client's close(reason, { returnWithinMs })."""
        return_within_ms = check_return_within_ms(return_within_ms)
        if self._closing.is_set():
            self._done.wait(self._close_timeout)
            return
        self._closing.set()
        with self._lock:  # waits for an assignment in progress; none starts after this
            self._running.stop_all()
            session = self._session
        if session:
            session.send(leave=pb.Leave(reason=reason, return_within_ms=return_within_ms))
            session.half_close()
        if self._thread and not self._done.wait(self._close_timeout) and session and session.call:
            session.call.cancel()
        log.info("closed (%s)", reason)

    def _loop(self) -> None:
        try:
            while not self._closing.is_set():
                session = self._run_session()
                if session is None or self._closing.is_set():
                    break
                self._closing.wait(self._after(session))
        except HelloRejected as error:
            log.error("%s; not reconnecting", error)
            self.error = error
        except Exception as error:  # never die silently in a background thread
            log.exception("connect loop crashed")
            self.error = error
        finally:
            self._done.set()

    def _run_session(self) -> Optional[_Session]:
        """Runs one Connect call to its end and returns it (None when closing)."""
        endpoint = self._rotation.take()  # may look names up: not under the lock close() waits for
        with self._lock:  # the hello must report a settled set of running streams
            if self._closing.is_set():
                return None
            hello = pb.Hello(instance_id=self.instance_id, capacity=self.capacity, held=self._running.held(),
                             labels=self._labels, version=self._version)
            session = self._session = _Session(hello, endpoint)
        # A channel per attempt: grpc's own reconnect backoff (up to 2 min) never adds to ours.
        channel = self._security.open_channel(session.endpoint.address, session.endpoint.server_name)
        session.call = pb_grpc.OrchestratorServiceStub(channel).Connect(
            session.requests(), metadata=self._security.metadata())
        watchdog = threading.Timer(self._welcome_timeout, session.call.cancel)
        watchdog.daemon = True
        watchdog.start()
        try:
            for response in session.call:
                self._handle(session, response, watchdog)
        except grpc.RpcError as error:
            session.code, session.details = error.code(), error.details() or ""
        finally:
            watchdog.cancel()
            session.half_close()  # also frees gRPC's thread blocked on the outbox
            self._session = None
            channel.close()
        return session

    def _handle(self, session: _Session, response: pb.ConnectResponse, watchdog) -> None:
        kind = response.WhichOneof("msg")
        if kind == "welcome":
            watchdog.cancel()
            session.welcome = response.welcome
            self._rotation.welcomed()
            interval = _heartbeat_interval(response.welcome)
            log.info("connected to %s as %s (session %s, heartbeat every %.1f s)",
                     session.endpoint.describe(), self.instance_id, response.welcome.session_id, interval)
            threading.Thread(target=self._beat, args=(session, interval), daemon=True).start()
        elif kind == "assignment":
            self._apply(session, response.assignment)
        elif kind == "go_away":
            log.info("orchestrator at %s sent go_away (%s%s)", session.endpoint.address, response.go_away.reason,
                     f"; the leader is {response.go_away.leader_address}" if response.go_away.leader_address else "")
            session.go_away = response.go_away
            session.half_close()
            # The server ends the call after go_away; if it does not, stop waiting for it.
            timer = threading.Timer(self._close_timeout, session.call.cancel)
            timer.daemon = True
            timer.start()

    def _beat(self, session: _Session, interval: float) -> None:
        """Any message renews the lease; heartbeats also carry metrics and the running count.
        At a fixed rate, so the time metrics take does not add up: the server gives no new
        streams to an instance whose heartbeat is half an interval late (keep metrics quick)."""
        next_beat = time.monotonic() + interval
        while not session.stop_beating.wait(max(0.0, next_beat - time.monotonic())):
            next_beat = max(next_beat + interval, time.monotonic())
            try:
                metrics = pb.SystemMetrics(**self._metrics())
            except Exception:  # a broken metrics callback must not cost us the lease
                log.exception("metrics failed; heartbeat sent without them")
                metrics = None
            session.send(heartbeat=pb.Heartbeat(metrics=metrics, running_streams=len(self._running)))

    def _apply(self, session: _Session, assignment: pb.Assignment) -> None:
        """Stops, then starts, then acks: the ack is what lets the server hand our removed
        streams to someone else, so it must not go out before the handlers finished."""
        with self._lock:
            if self._closing.is_set():
                return
            self._running.apply(assignment)
        session.send(ack=pb.Ack(seq=assignment.seq))

    def _after(self, session: _Session) -> float:
        """Seconds to wait before reconnecting, given how the last session ended."""
        code, details = session.code, session.details
        welcomed = session.welcome is not None
        if session.go_away is not None:
            return self._rotation.after(welcomed, session.go_away.reconnect_after_ms, session.go_away.leader_address)
        # A bad hello, or a token or certificate naming another instance (or a viewer's token):
        # the worker's configuration is wrong, and reconnecting would only be refused again.
        if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED):
            raise HelloRejected(f"orchestrator rejected instance {self.instance_id!r} ({code.name}: {details})")
        if code == grpc.StatusCode.UNAUTHENTICATED:
            # A missing or unknown token: what a rotation looks like until the server has the new
            # one (token files are reread without a restart), so keep trying, but slowly.
            log.error("orchestrator refused the credentials (%s: %s); retrying in %.0f s",
                      code.name, details, self._slow_retry)
            return self._slow_retry
        if code == grpc.StatusCode.ABORTED and "superseded" in details.lower():
            # Another process now runs our streams; keeping them too would make two owners.
            log.warning("superseded by another process with id %r: stopping streams, retrying in %.0f s",
                        self.instance_id, self._slow_retry)
            with self._lock:
                self._running.stop_all()
            return self._slow_retry
        # The next replica at once, or the backoff after a full cycle of them.
        delay = self._rotation.after(welcomed)
        what = "disconnected from" if welcomed else "could not connect to"
        log.warning("%s %s (%s: %s); retrying in %.2f s", what, session.endpoint.describe(), code.name, details, delay)
        return delay


def _heartbeat_interval(welcome: pb.Welcome) -> float:
    """The interval the server dictates; if it sends none, a third of the lease still keeps it."""
    if welcome.heartbeat_interval_ms:
        return welcome.heartbeat_interval_ms / 1000
    return welcome.lease_ttl_ms / 3000 if welcome.lease_ttl_ms else 5.0
