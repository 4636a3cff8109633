#!/usr/bin/env python3
"""The skeleton of a fingerprinting worker on finger_orchestrator (clients/python/README.md).

One asyncio task per stream the orchestrator grants: ``on_start`` starts it, ``on_stop``
cancels it and waits until it really ended. ``record``, ``identify`` and ``save_detection``
are where a real worker captures audio, asks the recognition API and writes to PostgreSQL;
here they only wait, find nothing and write nothing, so the skeleton runs as it is:

    INSTANCE_ID=finger_app_1 MAX_STREAMS=20 ORCHESTRATOR_URL=orchestrator.example:50051 \\
        python worker_skeleton.py

test/clients/python-skeleton.test.ts runs this file against a real orchestrator.
"""
from __future__ import annotations

import asyncio
import logging
import sys
from typing import Dict, Optional

from finger_orchestrator import ClientConfig, ConfigError, HelloRejected, OrchestratorClient, Stream

log = logging.getLogger("worker")

SEGMENT_SECONDS = 10.0

# The detection is written only while this instance still owns the stream under that epoch:
# orchestrator.holds() locks the stream's assignment row for share until the transaction
# ends, so a grant to another instance either waits for this insert or makes it insert
# nothing. $1 stream id, $2 instance id, $3 epoch, $4 song (asyncpg's placeholders; psycopg
# writes %s).
FENCED_INSERT = """
INSERT INTO music_log (stream_id, song, detected_at)
SELECT $1, $4, now() WHERE orchestrator.holds($1, $2, $3)
"""


async def record(stream: Stream) -> bytes:
    """One segment of the stream's audio. A real worker runs ffmpeg here, e.g. with
    asyncio.create_subprocess_exec, and kills it when cancelled."""
    await asyncio.sleep(SEGMENT_SECONDS)
    return b""


async def identify(segment: bytes) -> Optional[str]:
    """The song in the segment, if the recognition API knows it."""
    return None


async def save_detection(stream_id: str, instance_id: str, epoch: int, song: str) -> bool:
    """Writes FENCED_INSERT with the driver of your choice; False when the row was refused
    (the stream is someone else's now). With asyncpg:
    ``await conn.execute(FENCED_INSERT, stream_id, instance_id, epoch, song) == "INSERT 0 1"``,
    or with the package's ``Fence`` (asyncpg or psycopg 3):
    ``await Fence(stream_id, instance_id, epoch).execute(conn, "INSERT ... SELECT $1, $2 WHERE {holds}", ...) == 1``."""
    raise NotImplementedError("plug in your database driver")


class Worker:
    def __init__(self, instance_id: str):
        self.instance_id = instance_id
        self.client: Optional[OrchestratorClient] = None
        self.tasks: Dict[str, asyncio.Task] = {}

    async def on_start(self, stream: Stream) -> None:
        self.tasks[stream.id] = asyncio.create_task(self.monitor(stream), name=f"stream {stream.id}")
        log.info("start %s epoch=%d url=%s", stream.id, stream.epoch, stream.url)

    async def on_stop(self, stream_id: str) -> None:
        task = self.tasks.pop(stream_id, None)
        if task is not None:
            task.cancel()
            # The orchestrator grants the stream to another instance only after this returns:
            # returning before the task ended would let two workers record the same radio.
            await asyncio.gather(task, return_exceptions=True)
        log.info("stop %s", stream_id)

    def epoch(self, stream_id: str) -> Optional[int]:
        """The stream's epoch now: a stream kept through a new grant is not restarted, it only
        takes the new epoch, so a task must not keep the one it started with."""
        current = self.client.running().get(stream_id) if self.client else None
        return current.epoch if current else None

    async def monitor(self, stream: Stream) -> None:
        log.info("recording %s", stream.id)
        try:
            while True:
                segment = await record(stream)
                song = await identify(segment)
                epoch = self.epoch(stream.id)
                if song and epoch is not None:
                    if not await save_detection(stream.id, self.instance_id, epoch, song):
                        log.warning("%s: detection refused, the stream is no longer ours", stream.id)
        except asyncio.CancelledError:
            log.info("cancelled %s", stream.id)
            raise


async def main() -> int:
    # Unix time first, so the logs of several workers sort together.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(created).3f %(levelname)s %(name)s: %(message)s")
    try:
        config = ClientConfig.from_env()
    except ConfigError as error:
        log.error("configuration error: %s", error)
        return 2
    worker = Worker(config.instance_id)
    worker.client = OrchestratorClient(config.targets, config.instance_id, config.capacity,
                                       on_start=worker.on_start, on_stop=worker.on_stop,
                                       security=config.security)
    try:
        # Until SIGTERM (leave to return within LEAVE_RETURN_WITHIN_MS) or SIGINT (leave for good).
        await worker.client.serve(sigterm_return_within_ms=config.leave_return_within_ms)
    except HelloRejected:
        return 1  # the configuration is wrong (logged); restarting will not fix it
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
