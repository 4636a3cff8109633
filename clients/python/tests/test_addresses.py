"""Which replica the client dials next: name expansion and its deadline, and the rotation's
order (no orchestrator needed)."""
import threading
import time

from finger_orchestrator.addresses import AddressRotation, Endpoint, ResolveTimeout, expand_targets, with_deadline


def test_a_name_with_several_records_is_one_endpoint_per_record_with_the_name_kept_for_tls():
    records = {"orch": ["10.0.0.1", "10.0.0.2", "10.0.0.1"]}
    found = expand_targets(["orch:50051", "10.0.0.9:50051", "unix:/run/orch.sock", "orch:50051"], lambda host, port: records[host])
    assert found == [
        Endpoint("10.0.0.1:50051", "orch"),
        Endpoint("10.0.0.2:50051", "orch"),
        Endpoint("10.0.0.9:50051"),
        Endpoint("unix:/run/orch.sock"),
    ]


def test_a_name_that_does_not_resolve_is_dialled_as_it_is():
    def fails(host, port):
        raise OSError("Name or service not known")

    assert expand_targets(["nowhere:50051"], fails) == [Endpoint("nowhere:50051")]


def test_a_look_up_that_hangs_is_given_up_after_its_deadline_and_the_name_dialled_as_it_is():
    release = threading.Event()

    def hangs(host, port):
        release.wait(5)
        return ["10.0.0.1", "10.0.0.2"]

    try:
        started = time.monotonic()
        rotation = AddressRotation(["slow-dns:50051", "10.0.0.3:50051"], hangs, resolve_timeout=0.2)
        assert [rotation.take().address, rotation.take().address] == ["slow-dns:50051", "10.0.0.3:50051"]
        took = time.monotonic() - started
        assert 0.2 <= took < 1.5, f"gave up after {took:.2f} s"
    finally:
        release.set()


def test_a_deadline_leaves_a_quick_answer_alone_and_names_the_wait_when_it_runs_out():
    assert with_deadline(lambda host, port: ["10.0.0.1"], 1.0)("orch", 1) == ["10.0.0.1"]
    release = threading.Event()
    try:
        with_deadline(lambda host, port: release.wait(5) and [], 0.05)("orch", 1)
        raise AssertionError("no timeout")
    except ResolveTimeout as error:
        assert "no answer within 0.05 s" in str(error)
    finally:
        release.set()


def test_after_a_welcome_the_next_cycle_starts_at_the_replica_that_welcomed():
    rotation = AddressRotation(["a:1", "b:2", "c:3"], None, rand=lambda: 0.0)
    assert rotation.take().address == "a:1"
    assert rotation.after(False) == 0.0  # refused: the next one at once
    assert rotation.take().address == "b:2"
    rotation.welcomed()
    assert rotation.after(True) == 0.0  # the session broke: backoff (0 with this rand), then b again
    assert [rotation.take().address for _ in range(3)] == ["b:2", "c:3", "a:1"]


def test_a_go_away_naming_the_leader_is_followed_at_once_and_a_loop_of_hints_is_cut_off():
    rotation = AddressRotation(["a:1", "b:2"], None, rand=lambda: 0.5)
    assert rotation.take().address == "a:1"
    assert rotation.after(False, 250, "b:2") == 0.0
    assert rotation.take().address == "b:2"
    waits = []
    for _ in range(4):  # the replicas keep naming each other
        waits.append(rotation.after(False, 250, "a:1" if rotation.current.address == "b:2" else "b:2"))
        rotation.take()
    assert 0.0 in waits and max(waits) >= 0.25, f"followed, then backed off: {waits}"
