#!/usr/bin/env python3
"""A runnable fingerprinting worker on the finger_orchestrator package that records nothing:
an asyncio task per stream that only waits, and a log line for every start and stop.

Configured from the environment as clients/python/README.md describes (ORCHESTRATOR_URL,
INSTANCE_ID, MAX_STREAMS, ORCHESTRATOR_TOKEN, ORCHESTRATOR_*_FILE, LEAVE_RETURN_WITHIN_MS),
plus one of its own: DUMMY_STOP_SECONDS, how long stopping a recorder pretends to take.
clients/python/examples/worker_skeleton.py is the shape of a real worker, with fenced writes.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from typing import Dict

from finger_orchestrator import ClientConfig, ConfigError, HelloRejected, OrchestratorClient, Stream

VERSION = "python-example/0.1.0"
log = logging.getLogger("worker")


class DummyRecorder:
    """Stands in for fingerv7's recorder; a real one would run ffmpeg and fingerprint segments."""

    def __init__(self, stop_seconds: float):
        self.stop_seconds = stop_seconds
        self.tasks: Dict[str, asyncio.Task] = {}

    async def start(self, stream: Stream) -> None:
        self.tasks[stream.id] = asyncio.create_task(asyncio.sleep(float("inf")))
        log.info("start %s epoch=%d url=%s name=%r", stream.id, stream.epoch, stream.url, stream.name)

    async def stop(self, stream_id: str) -> None:
        log.info("stopping %s", stream_id)
        task = self.tasks.pop(stream_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(self.stop_seconds)
        log.info("stop %s", stream_id)


async def main() -> int:
    # The first column is Unix time, so logs of several workers sort and compare easily.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(created).3f %(levelname)s %(name)s: %(message)s")
    try:
        config = ClientConfig.from_env()
        stop_seconds = float(os.environ.get("DUMMY_STOP_SECONDS", "0"))
    except ConfigError as error:
        log.error("configuration error: %s", error)
        return 2
    except ValueError as error:
        log.error("configuration error: DUMMY_STOP_SECONDS is not a number: %s", error)
        return 2
    recorder = DummyRecorder(stop_seconds)
    client = OrchestratorClient(config.targets, config.instance_id, config.capacity,
                                on_start=recorder.start, on_stop=recorder.stop, security=config.security,
                                labels={"hostname": socket.gethostname()}, version=VERSION)
    log.info("worker %s (capacity %d) connecting to %s (%s)", config.instance_id, config.capacity,
             ",".join(config.targets), config.security.describe())
    try:
        # Returns after SIGTERM (a restart: the streams wait for the next process with this id)
        # or SIGINT (for good), once every stream stopped and leave went out.
        await client.serve(sigterm_return_within_ms=config.leave_return_within_ms)
    except HelloRejected:
        return 1  # a configuration error (the client logged which field); retrying cannot fix it
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
