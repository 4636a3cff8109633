"""The fencing helper (finger_orchestrator.fencing): its SQL in each driver's placeholder style,
then holds() and execute() through asyncpg and psycopg 3 (async and sync) against the real
orchestrator's database, on a grant a real client received."""
from __future__ import annotations

import uuid

import asyncpg
import psycopg
import pytest

from finger_orchestrator import Fence, schema_from_env
from finger_orchestrator.fencing import driver_style
from support import DATABASE_URL, MUSIC_LOG, STREAMS, Worker, asyncio_test, wait_until

INSERT_NUMERIC = ("insert into radio.music_log (attempt, stream_id, instance_id, epoch, song)"
                  " select $1, $2, $3, $4, $5 where {holds}")
# The fence in the middle: its parameters must land between the statement's own.
INSERT_FORMAT = ("insert into radio.music_log (attempt, stream_id, instance_id, epoch, song)"
                 " select %s, %s, %s, %s, s from (values (%s)) v(s) where {holds} and s <> %s")


def test_the_condition_in_each_style_and_the_parameters_in_their_place():
    fence = Fence("s1", "w1", 42, schema="radio_orch")
    assert fence.params == ("s1", "w1", 42)
    assert fence.condition() == "radio_orch.holds($1, $2, $3)"
    assert fence.condition("numeric", first=4) == "radio_orch.holds($4, $5, $6)"
    assert fence.bind("numeric", "select $1, $2 where {holds}", ["a", "b"]) == \
        ("select $1, $2 where radio_orch.holds($3, $4, $5)", ["a", "b", "s1", "w1", 42])
    # psycopg goes by position: the fence's three after the two placeholders before it, an
    # escaped percent sign counting for none.
    assert fence.bind("format", "select %s, '100%%', %s where {holds} and x = %s", ["a", "b", "c"]) == \
        ("select %s, '100%%', %s where radio_orch.holds(%s, %s, %s) and x = %s", ["a", "b", "s1", "w1", 42, "c"])
    with pytest.raises(ValueError, match="exactly once"):
        fence.bind("numeric", "select 1", [])
    with pytest.raises(ValueError, match="identifier"):
        Fence("s1", "w1", 1, schema="x; drop table y")
    assert schema_from_env({}) == "orchestrator" and schema_from_env({"DB_SCHEMA": "finger"}) == "finger"
    with pytest.raises(ValueError, match="DB_SCHEMA"):
        schema_from_env({"DB_SCHEMA": "Finger"})
    with pytest.raises(TypeError, match="asyncpg or psycopg"):
        driver_style(object())


@asyncio_test
async def test_holds_and_execute_through_asyncpg_and_psycopg():
    assert DATABASE_URL, "the runner passes ORCHESTRATOR_TEST_DATABASE_URL"
    worker = Worker()
    pg = await asyncpg.connect(DATABASE_URL)
    aps = await psycopg.AsyncConnection.connect(DATABASE_URL, autocommit=True)
    sps = psycopg.connect(DATABASE_URL, autocommit=True)
    try:
        await pg.execute(MUSIC_LOG)
        async with worker.client("pkg-fence") as client:
            await wait_until("every stream", lambda: sorted(client.running()) == STREAMS)
            stream = client.running()[STREAMS[0]]
            fence = Fence.of(stream, client.instance_id)
            stale = Fence(stream.id, client.instance_id, stream.epoch - 1)
            other = Fence(stream.id, "pkg-someone-else", stream.epoch)
            for conn in (pg, aps):
                assert driver_style(conn) == ("numeric" if conn is pg else "format")
                assert await fence.holds(conn) is True
                assert await stale.holds(conn) is False, "an older epoch"
                assert await other.holds(conn) is False, "another instance"
            assert fence.holds_sync(sps) is True and stale.holds_sync(sps) is False
            with pytest.raises(TypeError, match="synchronous"):
                fence.holds_sync(aps)

            attempts = {name: str(uuid.uuid4()) for name in ("asyncpg", "asyncpg-stale", "aps", "aps-stale", "sps", "sps-stale")}
            row = lambda key, f: (attempts[key], f.stream_id, f.instance_id, f.epoch, key)  # noqa: E731
            assert await fence.execute(pg, INSERT_NUMERIC, *row("asyncpg", fence)) == 1
            assert await stale.execute(pg, INSERT_NUMERIC, *row("asyncpg-stale", stale)) == 0
            assert await fence.execute(aps, INSERT_FORMAT, *row("aps", fence), "never") == 1
            assert await stale.execute(aps, INSERT_FORMAT, *row("aps-stale", stale), "never") == 0
            assert fence.execute_sync(sps, INSERT_FORMAT, *row("sps", fence), "never") == 1
            assert stale.execute_sync(sps, INSERT_FORMAT, *row("sps-stale", stale), "never") == 0
            kept = await pg.fetch("select attempt, song, epoch from radio.music_log where attempt = any($1::text[])",
                                  list(attempts.values()))
            assert sorted((r["song"], r["epoch"]) for r in kept) == [(k, stream.epoch) for k in ("aps", "asyncpg", "sps")]
    finally:
        await pg.close()
        await aps.close()
        sps.close()
