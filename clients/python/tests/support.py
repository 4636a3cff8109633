"""What the package's tests share: the orchestrator the TypeScript runner started
(test/clients/python-package.test.ts), a worker that records its handler calls, a TCP proxy
that can cut or black-hole connections, the users' detections table, and waiting."""
from __future__ import annotations

import asyncio
import functools
import json
import os
import time
import urllib.request
from typing import Awaitable, Callable, Dict, List, Tuple

from finger_orchestrator import OrchestratorClient, Stream

ADDRESS = os.environ.get("ORCHESTRATOR_TEST_ADDRESS", "")
HTTP = os.environ.get("ORCHESTRATOR_TEST_HTTP", "")
STREAMS = sorted(filter(None, os.environ.get("ORCHESTRATOR_TEST_STREAMS", "").split(",")))
# The orchestrator's database (a superuser's URL), where the fencing tests keep the users' table.
DATABASE_URL = os.environ.get("ORCHESTRATOR_TEST_DATABASE_URL", "")
# A users' table of detections, in a schema of its own, as a worker would write them. ``attempt``
# names each write, so a test can tell which ones the database kept.
MUSIC_LOG = """
    create schema if not exists radio;
    create table if not exists radio.music_log (
        id bigserial primary key, attempt text not null unique, stream_id text not null,
        instance_id text not null, epoch bigint not null, song text not null,
        written_at timestamptz not null default clock_timestamp())"""
HEARTBEAT_S, LEASE_S = 0.3, 1.5  # what the runner configured
# A second orchestrator the runner started on TLS (its certificate signed by TLS_CA_FILE) with one
# instance token, TLS_TOKEN, bound to TLS_INSTANCE; its HTTP status pages stay open (plain HTTP).
TLS_ADDRESS = os.environ.get("ORCHESTRATOR_TEST_TLS_ADDRESS", "")
TLS_HTTP = os.environ.get("ORCHESTRATOR_TEST_TLS_HTTP", "")
TLS_CA_FILE = os.environ.get("ORCHESTRATOR_TEST_TLS_CA_FILE", "")
TLS_TOKEN = os.environ.get("ORCHESTRATOR_TEST_TLS_TOKEN", "")
TLS_INSTANCE = os.environ.get("ORCHESTRATOR_TEST_TLS_INSTANCE", "")
TLS_STREAMS = sorted(filter(None, os.environ.get("ORCHESTRATOR_TEST_TLS_STREAMS", "").split(",")))


def asyncio_test(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    @functools.wraps(fn)
    def run(*args, **kwargs) -> None:
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 15))
    return run


def instance(instance_id: str, http: str = "") -> dict:
    """The orchestrator's view of an instance (GET /instances on ``http``, by default HTTP)."""
    with urllib.request.urlopen(f"{http or HTTP}/instances", timeout=2) as reply:
        for entry in json.load(reply)["instances"]:
            if entry["server_id"] == instance_id:
                return entry
    return {}


async def wait_until(what: str, check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Worker:
    """Handlers shaped like the users' workers: an asyncio task per stream, started by
    on_start and cancelled (and awaited) by on_stop, which takes ``stop_seconds``."""

    def __init__(self, stop_seconds: float = 0.0):
        self.stop_seconds = stop_seconds
        self.tasks: Dict[str, asyncio.Task] = {}
        self.log: List[Tuple[float, str, str, int]] = []  # (monotonic time, "start"|"stopped", id, epoch)

    async def on_start(self, stream: Stream) -> None:
        self.tasks[stream.id] = asyncio.create_task(asyncio.sleep(3600))
        self.log.append((time.monotonic(), "start", stream.id, stream.epoch))

    async def on_stop(self, stream_id: str) -> None:
        task = self.tasks.pop(stream_id)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(self.stop_seconds)
        self.log.append((time.monotonic(), "stopped", stream_id, 0))

    def client(self, instance_id: str, target: str = "", **options) -> OrchestratorClient:
        return OrchestratorClient(target or ADDRESS, instance_id, 10, self.on_start, self.on_stop, **options)

    def events(self, kind: str) -> List[Tuple[float, str, str, int]]:
        return [e for e in self.log if e[1] == kind]


class Proxy:
    """A TCP proxy to the orchestrator: ``cut()`` resets every connection, ``black_hole()``
    keeps them open but drops everything both ways (new ones too) until ``restore()``."""

    def __init__(self, upstream: str):
        self.host, _, port = upstream.rpartition(":")
        self.port = int(port)
        self.dropping = False
        self._pairs: List[Tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._server: asyncio.AbstractServer

    async def __aenter__(self) -> "Proxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.cut()
        self._server.close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def cut(self) -> None:
        for a, b in self._pairs:
            for w in (a, b):
                w.transport.abort()
        self._pairs.clear()

    def black_hole(self) -> None:
        self.dropping = True

    def restore(self) -> None:
        """Forwards again, on new connections: the old ones lost bytes mid-frame."""
        self.dropping = False
        self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self._pairs.append((writer, up_writer))

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    if not self.dropping:
                        dst.write(data)
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
