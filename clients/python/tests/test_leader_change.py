"""The client given both addresses of two real orchestrator replicas, through a SIGKILL of the
leader (test/clients/python-package-replicas.test.ts starts the replica processes and kills the
leader when asked on ORCHESTRATOR_TEST_CONTROL): it reconnects to the new leader with what it
holds and keeps every stream under the same epoch; nothing stops or starts again."""
from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request

from support import Worker, instance, wait_until

REPLICAS = list(filter(None, os.environ.get("ORCHESTRATOR_TEST_REPLICAS", "").split(",")))
CONTROL = os.environ.get("ORCHESTRATOR_TEST_CONTROL", "")
STREAMS = sorted(filter(None, os.environ.get("ORCHESTRATOR_TEST_STREAMS", "").split(",")))
# What the runner configured: the instance lease (and reconnect grace), and when every takeover wait is over.
LEASE_S = float(os.environ.get("ORCHESTRATOR_TEST_LEASE_S", "0"))
TAKEOVER_OVER_S = float(os.environ.get("ORCHESTRATOR_TEST_TAKEOVER_OVER_S", "0"))


def _control(action: str) -> dict:
    request = urllib.request.Request(f"{CONTROL}/{action}", method="POST")
    with urllib.request.urlopen(request, timeout=15) as reply:
        return json.load(reply)


def test_after_a_sigkill_of_the_leader_it_reconnects_to_the_new_one_and_keeps_its_streams():
    assert len(REPLICAS) == 2 and CONTROL and STREAMS and LEASE_S and TAKEOVER_OVER_S, "ORCHESTRATOR_TEST_* not set"
    asyncio.run(asyncio.wait_for(_leader_change(), 40))


async def _leader_change() -> None:
    worker = Worker()
    async with worker.client("pkg-leader-change", target=REPLICAS, backoff_initial=0.05, backoff_max=0.5) as client:
        await wait_until("every stream", lambda: sorted(client.running()) == STREAMS, timeout=10)
        old = await asyncio.to_thread(_control, "leader")
        assert client.connected and client.target == old["grpc"], f"connected to the leader {old}, not {client.target}"
        before, session = client.running(), client.session_id
        assert [s.epoch > 0 for s in before.values()] == [True] * len(STREAMS)

        killed = await asyncio.to_thread(_control, "kill-leader")  # returns once another replica leads
        killed_at = time.monotonic() - killed["took_s"]
        new = killed["leader"]
        assert new["grpc"] != old["grpc"] and new["grpc"] in REPLICAS
        await wait_until("a session on the new leader",
                         lambda: client.connected and client.session_id != session and client.target == new["grpc"],
                         timeout=LEASE_S)
        await wait_until("the new leader to see it connected with every stream", lambda: (
            (entry := instance("pkg-leader-change", new["http"])).get("state") == "connected"
            and entry.get("current_streams") == entry.get("running_streams") == len(STREAMS)), timeout=LEASE_S)

        # Past every takeover wait (as the runner computes it from the orchestrator's rules), nothing moved.
        await asyncio.sleep(max(0.0, killed_at + TAKEOVER_OVER_S + 0.5 - time.monotonic()))
        assert client.connected and client.target == new["grpc"]
        assert client.running() == before, "the same streams under the same epochs"
        assert worker.events("stopped") == [] and len(worker.log) == len(STREAMS), f"nothing stopped or restarted: {worker.log}"
