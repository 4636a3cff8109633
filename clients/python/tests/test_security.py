"""The client against an orchestrator on TLS with instance tokens (the second orchestrator
test/clients/python-package.test.ts starts): the CA and the right token get it in and its
streams; a wrong token is refused with the client's one clear log line and no retry storm; a
token bound to another instance ends the client with HelloRejected; plaintext never connects."""
from __future__ import annotations

import asyncio
import logging

import pytest

from finger_orchestrator import ChannelSecurity, HelloRejected, security_from_env
from support import TLS_ADDRESS, TLS_CA_FILE, TLS_HTTP, TLS_INSTANCE, TLS_STREAMS, TLS_TOKEN, Worker, asyncio_test, \
    instance, wait_until

WRONG_TOKEN = "pkg-wrong-token-0123456789abcdef"


def _security(token: str) -> ChannelSecurity:
    # As a worker configures it: ORCHESTRATOR_CA_FILE and ORCHESTRATOR_TOKEN.
    return security_from_env({"ORCHESTRATOR_CA_FILE": TLS_CA_FILE, "ORCHESTRATOR_TOKEN": token})


def _records(caplog: pytest.LogCaptureFixture, text: str) -> list:
    return [r for r in caplog.records if r.name == "finger_orchestrator" and text in r.getMessage()]


def test_the_runner_started_the_tls_orchestrator():
    assert TLS_ADDRESS and TLS_CA_FILE and TLS_TOKEN and TLS_INSTANCE and TLS_STREAMS, "ORCHESTRATOR_TEST_TLS_* not set"


@asyncio_test
async def test_the_ca_and_its_token_get_it_in_over_tls_and_it_runs_its_streams():
    worker = Worker()
    security = _security(TLS_TOKEN)
    assert security.tls and security.describe() == "TLS, with token"
    async with worker.client(TLS_INSTANCE, target=TLS_ADDRESS, security=security) as client:
        await wait_until("every stream over TLS", lambda: sorted(client.running()) == TLS_STREAMS)
        assert client.connected and all(s.epoch > 0 for s in client.running().values())
        assert instance(TLS_INSTANCE, TLS_HTTP)["state"] == "connected"


@asyncio_test
async def test_a_wrong_token_is_refused_with_one_clear_error_and_retried_only_slowly(caplog):
    caplog.set_level(logging.INFO, "finger_orchestrator")
    worker = Worker()
    async with worker.client("pkg-wrong-token", target=TLS_ADDRESS, security=_security(WRONG_TOKEN),
                             backoff_initial=0.05, backoff_max=0.1, slow_retry=30) as client:
        await wait_until("the refusal to be logged",
                         lambda: _records(caplog, "the orchestrator refused the credentials (UNAUTHENTICATED"))
        await asyncio.sleep(1.0)  # a retry at the usual backoff would show within this
        refusals = _records(caplog, "refused the credentials")
        assert len(refusals) == 1, f"one refusal, no fast retries: {[r.getMessage() for r in refusals]}"
        assert refusals[0].levelno == logging.ERROR and "the token is not valid" in refusals[0].getMessage()
        assert WRONG_TOKEN not in caplog.text, "the token is never logged"
        assert not client.connected and client.running() == {} and worker.log == []
        assert client.error is None, "kept trying (a token rotation on the server fixes it)"
        assert instance("pkg-wrong-token", TLS_HTTP) == {}, "never got in"


@asyncio_test
async def test_a_token_bound_to_another_instance_ends_the_client_with_hello_rejected():
    worker = Worker()
    client = worker.client("pkg-not-the-tokens-instance", target=TLS_ADDRESS, security=_security(TLS_TOKEN))
    client.start()
    with pytest.raises(HelloRejected, match=r"PERMISSION_DENIED: hello\.instance_id: this token is bound to instance"):
        await asyncio.wait_for(client.wait(), 5)
    assert worker.log == [] and instance("pkg-not-the-tokens-instance", TLS_HTTP) == {}


@asyncio_test
async def test_plaintext_to_the_tls_port_never_connects(caplog):
    caplog.set_level(logging.INFO, "finger_orchestrator")
    worker = Worker()
    plaintext = ChannelSecurity(token=TLS_TOKEN)  # the right token, without TLS
    async with worker.client(TLS_INSTANCE, target=TLS_ADDRESS, security=plaintext,
                             backoff_initial=0.05, backoff_max=0.2, welcome_timeout=2) as client:
        await wait_until("a failed attempt to be logged", lambda: _records(caplog, f"could not connect to {TLS_ADDRESS}"))
        await asyncio.sleep(1.0)
        assert not client.connected and client.running() == {} and worker.log == []
        assert not _records(caplog, "connected to "), "never welcomed"
        assert instance(TLS_INSTANCE, TLS_HTTP).get("state") != "connected", "the orchestrator never took its hello"
