"""Fenced detections across a handover the old owner does not take part in (issue 14): an
instance cut off from the orchestrator (a black-holed proxy) keeps recording, not strict,
after its streams were granted to another instance; the database keeps its writes from before
the grant and refuses the rest, keeps every write of the new owner, and no write is lost or
kept twice, a write held open across the grant included."""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Dict, List

import asyncpg

from finger_orchestrator import Fence, Stream
from support import ADDRESS, DATABASE_URL, LEASE_S, MUSIC_LOG, STREAMS, Proxy, asyncio_test, wait_until

INSERT = ("insert into radio.music_log (attempt, stream_id, instance_id, epoch, song)"
          " select $1, $2, $3, $4, $5 where {holds}")
# The orchestrator's grant waiting for a row lock (not a worker's write: those call holds()).
GRANT_WAITING = """select count(*) from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()
      and wait_event_type = 'Lock' and query not ilike '%holds(%'"""
WRITE_EVERY_S = 0.025


@dataclass
class Attempt:
    attempt: str
    stream_id: str
    instance_id: str
    epoch: int
    at: float  # monotonic, when it was sent
    written: int = -1  # rows the database kept: 1 or 0 (refused); -1 while in flight


class Recorder:
    """A worker shaped like the users': an asyncio task per stream that writes a detection
    every WRITE_EVERY_S through the fence of its grant, and remembers what each write got."""

    def __init__(self, pool: asyncpg.Pool, instance_id: str):
        self.pool, self.instance_id = pool, instance_id
        self.tasks: Dict[str, asyncio.Task] = {}
        self.attempts: List[Attempt] = []
        self.started: Dict[str, float] = {}  # stream id -> monotonic time of its last on_start
        self.stops = 0

    async def on_start(self, stream: Stream) -> None:
        self.started[stream.id] = time.monotonic()
        self.tasks[stream.id] = asyncio.create_task(self._record(stream))

    async def on_stop(self, stream_id: str) -> None:
        self.stops += 1
        task = self.tasks.pop(stream_id)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _record(self, stream: Stream) -> None:
        fence = Fence.of(stream, self.instance_id)
        while True:
            a = Attempt(str(uuid.uuid4()), stream.id, self.instance_id, stream.epoch, time.monotonic())
            self.attempts.append(a)
            # A write under way when on_stop cancels the task still gets its answer, so every
            # attempt is known kept or refused.
            write = asyncio.ensure_future(self._write(fence, a))
            try:
                a.written = await asyncio.shield(write)
            except asyncio.CancelledError:
                a.written = await write
                raise
            await asyncio.sleep(WRITE_EVERY_S)

    async def _write(self, fence: Fence, a: Attempt) -> int:
        async with self.pool.acquire() as conn:
            return await fence.execute(conn, INSERT, a.attempt, a.stream_id, a.instance_id, a.epoch, "a song")


@asyncio_test
async def test_a_cut_off_instance_keeps_recording_and_the_database_keeps_only_the_owners_writes():
    assert DATABASE_URL, "the runner passes ORCHESTRATOR_TEST_DATABASE_URL"
    admin = await asyncpg.connect(DATABASE_URL)
    await admin.execute(MUSIC_LOG)
    pool = await asyncpg.create_pool(DATABASE_URL, min_size=2, max_size=10)
    held = await pool.acquire()
    zombie, heir = Recorder(pool, "pkg-zombie"), Recorder(pool, "pkg-heir")
    try:
        async with Proxy(ADDRESS) as proxy:
            # close_timeout: its leave goes into the black hole; nothing answers it.
            old = _client(zombie, proxy.address, close_timeout=0.2)
            new = _client(heir, ADDRESS)
            old.start()
            await wait_until("the first instance to run every stream", lambda: sorted(old.running()) == STREAMS)
            new.start()
            await wait_until("the streams shared out", lambda: len(old.running()) and len(new.running())
                             and len(old.running()) + len(new.running()) == len(STREAMS))
            cut_off = dict(old.running())
            stops_before = zombie.stops
            proxy.black_hole()

            # A write of the cut-off instance held open until the orchestrator's grant of its
            # stream waits for it: it must be kept, and the grant must come only after it.
            first = next(iter(cut_off.values()))
            fence = Fence.of(first, "pkg-zombie")
            in_flight = Attempt("held-" + str(uuid.uuid4()), first.id, "pkg-zombie", first.epoch, time.monotonic())
            async with held.transaction():
                in_flight.written = await fence.execute(held, INSERT, in_flight.attempt, first.id, "pkg-zombie",
                                                        first.epoch, "a song held across the grant")
                assert in_flight.written == 1, "it still owns the stream when the write starts"
                await _wait_for(admin, "the grant to wait for the write in flight", LEASE_S + 3)
                await asyncio.sleep(0.1)
                assert first.id not in new.running(), "granted before the write in flight committed"
            await wait_until("the cut-off streams granted to the other instance",
                             lambda: set(cut_off) <= set(new.running()), timeout=3)
            await asyncio.sleep(0.4)  # the cut-off instance keeps writing meanwhile
            assert old.running() == cut_off and zombie.stops == stops_before, "not strict: it keeps recording"
            await new.leave()
            await old.leave()

        rows = await admin.fetch("select attempt, stream_id, instance_id, epoch from radio.music_log"
                                 " where instance_id = any($1::text[]) order by written_at, id", ["pkg-zombie", "pkg-heir"])
        attempts = [*zombie.attempts, *heir.attempts, in_flight]
        assert all(a.written in (0, 1) for a in attempts), "every write got its answer"
        # Nothing lost, nothing twice: the table holds exactly the writes reported kept.
        assert sorted(r["attempt"] for r in rows) == sorted(a.attempt for a in attempts if a.written == 1)
        for stream_id, stream in cut_off.items():
            granted_at = heir.started[stream_id]
            late = [a for a in zombie.attempts if a.stream_id == stream_id and a.at > granted_at]
            assert len(late) >= 5, f"{stream_id}: the cut-off instance kept recording ({len(late)} writes after the grant)"
            assert [a.written for a in late] == [0] * len(late), f"{stream_id}: its writes after the grant are refused"
            mine = [a for a in heir.attempts if a.stream_id == stream_id and a.at > granted_at]
            assert mine and all(a.written == 1 for a in mine), f"{stream_id}: the new owner's writes are kept"
            assert mine[0].epoch > stream.epoch
        # At each handover (the join's and the cut-off's), every write under the old epoch
        # comes before every write under the new one: in the order they were written, a
        # stream's epochs never go back.
        for stream_id in STREAMS:
            epochs = [r["epoch"] for r in rows if r["stream_id"] == stream_id]
            assert epochs == sorted(epochs), f"{stream_id}: writes of two owners interleave"
            assert len(set(epochs)) >= 2 or stream_id not in cut_off
    finally:
        await pool.release(held)
        await pool.close()
        await admin.close()


def _client(recorder: Recorder, target: str, **options):
    from finger_orchestrator import OrchestratorClient
    return OrchestratorClient(target, recorder.instance_id, 10, recorder.on_start, recorder.on_stop, **options)


async def _wait_for(admin: asyncpg.Connection, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await admin.fetchval(GRANT_WAITING):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
