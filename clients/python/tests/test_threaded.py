"""The threaded wrapper for synchronous workers: plain handlers, called off the client's loop
(a blocking one does not hold the heartbeats up), every stream stopped on leave."""
from __future__ import annotations

import threading
import time
from typing import Dict, List

from finger_orchestrator import Stream, ThreadedClient
from support import ADDRESS, HEARTBEAT_S, STREAMS, instance


def test_a_synchronous_worker_runs_its_streams_with_blocking_handlers():
    started: Dict[str, int] = {}  # stream id -> thread the handler ran on
    stopped: List[str] = []
    lock = threading.Lock()

    def on_start(stream: Stream) -> None:
        time.sleep(4 * HEARTBEAT_S)  # blocking, longer than a heartbeat interval
        with lock:
            started[stream.id] = threading.get_ident()

    def on_stop(stream_id: str) -> None:
        time.sleep(0.05)
        with lock:
            stopped.append(stream_id)

    client = ThreadedClient(ADDRESS, "pkg-threaded", 10, on_start, on_stop)
    with client:
        deadline = time.monotonic() + 8
        while sorted(client.running()) != STREAMS:
            assert time.monotonic() < deadline, f"timed out waiting for every stream: {client.running()}"
            time.sleep(0.05)
        assert client.connected and sorted(started) == STREAMS
        assert threading.get_ident() not in started.values() and client._thread.ident not in started.values(), \
            "handlers run in worker threads, not on the caller's or the client's loop"
        assert len(set(started.values())) > 1, "the starts of one assignment run concurrently"
        # The handlers blocked for 4 intervals and the lease (5 intervals) held: heartbeats went on.
        assert instance("pkg-threaded")["state"] == "connected"
    assert sorted(stopped) == STREAMS and client.running() == {}
    assert instance("pkg-threaded")["state"] == "left"


def test_bad_arguments_fail_start_itself_and_leave_no_thread_behind():
    client = ThreadedClient(ADDRESS, "pkg-threaded-bad", -1, lambda s: None, lambda i: None)
    try:
        client.start()
        raise AssertionError("start() accepted capacity -1")
    except ValueError as error:
        assert "capacity must be a whole number" in str(error)
    assert not client._thread.is_alive()
    assert client.running() == {} and not client.connected


def test_a_refused_hello_ends_the_thread_and_reaches_wait_and_leave():
    from finger_orchestrator import HelloRejected

    starts: List[str] = []
    # The server allows at most 128 characters of version; the client sends what it is given.
    client = ThreadedClient(ADDRESS, "pkg-threaded-refused", 5, lambda s: starts.append(s.id), lambda i: None, version="v" * 200)
    client.start()
    for wait_or_leave in (lambda: client.wait(timeout=10), lambda: client.leave(timeout=10)):
        try:
            wait_or_leave()
            raise AssertionError("no error after a refused hello")
        except HelloRejected as error:
            assert "INVALID_ARGUMENT" in str(error) and "hello.version" in str(error), str(error)
    assert not client._thread.is_alive(), "the client's thread ended"
    assert starts == [] and client.running() == {} and not client.connected
