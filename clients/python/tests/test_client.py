"""The asyncio client against a real orchestrator (started by test/clients/python-package.test.ts
with a 300 ms heartbeat, a 1.5 s lease and a 0.5 s reconnect grace, and STREAMS in its catalog).
Every test leaves at its end, so the next one starts with the catalog free."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime

from support import HEARTBEAT_S, LEASE_S, STREAMS, Proxy, Worker, asyncio_test, instance, wait_until

LEGACY_METRICS = ["cpu_percent", "memory_percent", "memory_used_gb", "memory_total_gb", "disk_percent",
                  "disk_free_gb", "disk_total_gb", "uptime_seconds"]


@asyncio_test
async def test_receives_its_streams_and_acks_only_after_the_handlers_returned():
    first, second = Worker(stop_seconds=0.3), Worker()
    async with first.client("pkg-recv-1", version="pkg-test/1", labels={"zone": "a"}) as one:
        await wait_until("the first instance to run every stream", lambda: sorted(one.running()) == STREAMS)
        assert [s.epoch > 0 for s in one.running().values()] == [True] * len(STREAMS)
        assert {e[2] for e in first.events("start")} == set(STREAMS)
        entry = instance("pkg-recv-1")
        assert (entry["version"], entry["labels"], entry["max_streams"]) == ("pkg-test/1", {"zone": "a"}, 10)
        async with second.client("pkg-recv-2") as two:
            # A join moves half the streams; the orchestrator grants them only after our ack,
            # which must wait for on_stop (300 ms each) to return.
            await wait_until("streams to move to the second instance", lambda: len(two.running()) >= len(STREAMS) // 2)
            stopped = {e[2]: e[0] for e in first.events("stopped")}
            for at, _, stream_id, _ in second.events("start"):
                assert stream_id in stopped, f"{stream_id} started elsewhere before it was stopped here"
                assert at >= stopped[stream_id], f"{stream_id} granted {stopped[stream_id] - at:.3f} s before on_stop returned"
            assert set(one.running()).isdisjoint(two.running())
            assert sorted([*one.running(), *two.running()]) == STREAMS


@asyncio_test
async def test_heartbeats_carry_the_legacy_metrics_and_the_running_count():
    worker = Worker()
    async with worker.client("pkg-metrics") as client:
        await wait_until("every stream", lambda: sorted(client.running()) == STREAMS)
        await wait_until("a heartbeat with the running count",
                         lambda: instance("pkg-metrics").get("running_streams") == len(STREAMS))
        metrics = instance("pkg-metrics")["metrics"]
        for key in LEGACY_METRICS:
            assert isinstance(metrics.get(key), (int, float)), f"metrics.{key} in {metrics}"
        assert 0 < metrics["memory_percent"] <= 100 and 0 <= metrics["cpu_percent"] <= 100
        assert len(metrics["load_average"]) == 3
        # At the server's interval, on a fixed schedule: about 5 in 1.5 s.
        # (last_heartbeat is the server's monotonic clock mapped to wall time: it jitters by a
        # millisecond between reads, so only a step counts as a heartbeat.)
        seen = lambda: datetime.fromisoformat(instance("pkg-metrics")["last_heartbeat"].replace("Z", "+00:00"))  # noqa: E731
        beats, last, deadline = 0, seen(), time.monotonic() + 1.5
        while time.monotonic() < deadline:
            now = seen()
            if (now - last).total_seconds() > 0.1:
                beats, last = beats + 1, now
            await asyncio.sleep(0.03)
        assert 3 <= beats <= 7, f"{beats} heartbeats in 1.5 s at a {HEARTBEAT_S} s interval"


@asyncio_test
async def test_a_reconnect_says_what_it_holds_and_keeps_its_streams():
    worker = Worker()
    async with Proxy(_address()) as proxy:
        async with worker.client("pkg-reconnect", target=proxy.address) as client:
            await wait_until("every stream", lambda: sorted(client.running()) == STREAMS)
            before, session = client.running(), client.session_id
            proxy.cut()
            await wait_until("a new session", lambda: client.connected and client.session_id != session)
            await asyncio.sleep(4 * HEARTBEAT_S)  # the full assignment and a round on the new session
            assert client.running() == before, "same streams, same epochs"
            assert len(worker.log) == len(STREAMS), f"nothing stopped or restarted: {worker.log}"
            assert instance("pkg-reconnect")["state"] == "connected"


@asyncio_test
async def test_strict_stops_everything_when_no_heartbeat_was_acknowledged_within_the_lease():
    strict, lax = Worker(), Worker()
    async with Proxy(_address()) as proxy:
        async with strict.client("pkg-strict", target=proxy.address, strict=True) as client, \
                lax.client("pkg-lax", target=proxy.address) as other:
            await wait_until("the streams shared out", lambda: len(client.running()) and len(other.running())
                             and len(client.running()) + len(other.running()) == len(STREAMS))
            held = sorted(other.running())
            proxy.black_hole()  # the connection looks open; nothing gets through
            cut_at = time.monotonic()
            await wait_until("the strict instance to stop", lambda: not client.running(), timeout=LEASE_S + 1.5)
            stopped_after = time.monotonic() - cut_at
            # At s + L, s the sending of the last acknowledged heartbeat (at most one interval before the cut).
            assert LEASE_S - HEARTBEAT_S - 0.1 <= stopped_after <= LEASE_S + 0.5, f"stopped {stopped_after:.2f} s after the cut"
            assert sorted(other.running()) == held, "not strict: keeps running while cut off"
            proxy.restore()
            await wait_until("the strict instance back and running again",
                             lambda: client.connected and len(client.running()) > 0, timeout=6)


@asyncio_test
async def test_leave_hands_the_streams_over_at_once_and_a_restart_gets_them_back():
    worker, other = Worker(), Worker()
    async with worker.client("pkg-leave") as client:
        await wait_until("every stream", lambda: sorted(client.running()) == STREAMS)
        epochs = {i: s.epoch for i, s in client.running().items()}
        await client.leave("restart", return_within_ms=10_000)
        assert not client.running() and {e[2] for e in worker.events("stopped")} == set(STREAMS)
        assert instance("pkg-leave")["state"] == "disconnected", "away to return, not gone"
    async with other.client("pkg-bystander") as bystander:
        await asyncio.sleep(3 * HEARTBEAT_S)
        assert bystander.running() == {}, "a restart's streams wait for their instance"
        returned = Worker()
        async with returned.client("pkg-leave") as again:
            # Its hello gets them all back (a round may then share some out to the bystander).
            await wait_until("the same streams back", lambda: len(returned.events("start")) == len(STREAMS))
            assert {e[2]: e[3] for e in returned.events("start")} == epochs, "all of them, under the same epochs"
            await again.leave()  # a plain leave: they move at once
            left_at = time.monotonic()
            assert instance("pkg-leave")["state"] == "left"
        await wait_until("the bystander to get them", lambda: sorted(bystander.running()) == STREAMS, timeout=2)
        assert time.monotonic() - left_at < 0.5, "at once, not after the reconnect grace"


def _address() -> str:
    from support import ADDRESS
    return ADDRESS
