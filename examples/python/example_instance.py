#!/usr/bin/env python3
"""A runnable fingerprinting worker that records nothing: it prints what it would start and stop.

Configured with the environment names fingerv7 deployments already use:
  ORCHESTRATOR_URL or ORCHESTRATOR_ADDRESS  host:port, http(s)://host:port or grpc(s)://host:port;
                                             https:// and grpcs:// mean TLS (port 443, else 50051);
                                             several replicas' separated by commas, tried in order
  ORCHESTRATOR_TOKEN                          this instance's token, sent as authorization: Bearer
  ORCHESTRATOR_CA_FILE                        PEM CA to trust instead of the default roots (TLS on)
  ORCHESTRATOR_CERT_FILE, ORCHESTRATOR_KEY_FILE  client certificate and key, for mutual TLS
  INSTANCE_ID (or SERVER_ID)                 unique id of this worker, e.g. finger_app_1
  MAX_STREAMS                                 how many streams it takes at once (default 10)
  DUMMY_STOP_SECONDS                          pretend stopping a recorder takes this long (default 0)
  LEAVE_RETURN_WITHIN_MS                      on SIGTERM (a restart), the streams wait this long for
                                             the next process, unrun (default 60000; 0: they move)

Run it from anywhere with Debian's Python: /usr/bin/python3 examples/python/example_instance.py
"""
from __future__ import annotations

import logging
import os
import socket
import sys
import time

from orchestrator_client import HelloRejected, OrchestratorClient, Stream, parse_targets, security_from_env
from orchestrator_types import check_return_within_ms

VERSION = "python-example/0.1.0"
log = logging.getLogger("worker")


class DummyRecorder:
    """Stands in for fingerv7's recorder; a real one would spawn ffmpeg and fingerprint segments."""

    def __init__(self, stop_seconds: float):
        self.stop_seconds = stop_seconds

    def start(self, stream: Stream) -> None:
        log.info("start %s epoch=%d url=%s name=%r", stream.id, stream.epoch, stream.url, stream.name)

    def stop(self, stream_id: str) -> None:
        log.info("stopping %s", stream_id)
        time.sleep(self.stop_seconds)
        log.info("stop %s", stream_id)


def config_from_env(env: dict[str, str]) -> dict:
    """Reads the legacy variables and the security ones; raises ValueError naming the one that is wrong."""
    name = "ORCHESTRATOR_URL" if env.get("ORCHESTRATOR_URL") else "ORCHESTRATOR_ADDRESS"
    try:
        targets, tls = parse_targets(env.get(name) or "localhost:50051")
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
    security = security_from_env(env, tls)
    for target in targets:
        if target.endswith(":8080"):
            log.warning("%s is the orchestrator's HTTP port; instances connect to its gRPC port (50051)", target)
    instance_id = env.get("INSTANCE_ID") or env.get("SERVER_ID")
    if not instance_id:
        raise ValueError("INSTANCE_ID (or SERVER_ID) must be set, e.g. finger_app_1")
    try:
        capacity = int(env.get("MAX_STREAMS", "10"))
        stop_seconds = float(env.get("DUMMY_STOP_SECONDS", "0"))
    except ValueError as error:
        raise ValueError(f"MAX_STREAMS or DUMMY_STOP_SECONDS is not a number: {error}") from None
    if capacity < 0:
        raise ValueError(f"MAX_STREAMS must be 0 or more, got {capacity}")
    return_within_ms = check_return_within_ms(env.get("LEAVE_RETURN_WITHIN_MS", "60000"), "LEAVE_RETURN_WITHIN_MS")
    return {"target": ",".join(targets), "security": security, "instance_id": instance_id,
            "capacity": capacity, "stop_seconds": stop_seconds, "return_within_ms": return_within_ms}


def main() -> int:
    # The first column is Unix time, so logs of several workers sort and compare easily.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(created).3f %(levelname)s %(name)s: %(message)s")
    try:
        config = config_from_env(dict(os.environ))
    except ValueError as error:
        log.error("configuration error: %s", error)
        return 2
    recorder = DummyRecorder(config["stop_seconds"])
    client = OrchestratorClient(
        config["target"], config["instance_id"], config["capacity"],
        on_start=recorder.start, on_stop=recorder.stop, security=config["security"],
        labels={"hostname": socket.gethostname()}, version=VERSION)
    log.info("worker %s (capacity %d) connecting to %s (%s)", config["instance_id"],
             config["capacity"], config["target"], config["security"].describe())
    try:
        # Returns after SIGTERM/SIGINT, once every stream stopped and leave went out. SIGTERM is
        # what a restart or redeploy sends: the streams wait for the next process with this id.
        client.serve(sigterm_return_within_ms=config["return_within_ms"])
    except HelloRejected:
        return 1  # a configuration error (the client logged which field); retrying cannot fix it
    return 0


if __name__ == "__main__":
    sys.exit(main())
