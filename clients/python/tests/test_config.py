"""Configuration from the environment: the users' names, one error per bad value naming it."""
from __future__ import annotations

import pytest

from finger_orchestrator import ClientConfig, ConfigError


def test_reads_the_legacy_names():
    config = ClientConfig.from_env({"ORCHESTRATOR_URL": "http://orch.example:50052", "SERVER_ID": "finger_app_1",
                                    "MAX_STREAMS": "20", "HEARTBEAT_INTERVAL": "30"})
    assert (config.targets, config.instance_id, config.capacity) == (["orch.example:50052"], "finger_app_1", 20)
    assert (config.security.tls, config.leave_return_within_ms) == (False, 60_000)
    several = ClientConfig.from_env({"ORCHESTRATOR_URL": "grpcs://a,b:9000", "INSTANCE_ID": "x", "ORCHESTRATOR_TOKEN": "t0k.en"})
    assert several.targets == ["a:443", "b:9000"] and several.security.tls and several.security.token == "t0k.en"
    assert ClientConfig.from_env({"INSTANCE_ID": "x"}).targets == ["localhost:50051"]


@pytest.mark.parametrize("env, variable", [
    ({"INSTANCE_ID": "x", "ORCHESTRATOR_URL": "ftp://orch"}, "ORCHESTRATOR_URL"),
    ({"INSTANCE_ID": "x", "ORCHESTRATOR_ADDRESS": "orch:port"}, "ORCHESTRATOR_ADDRESS"),
    ({"ORCHESTRATOR_URL": "orch:1"}, "INSTANCE_ID"),
    ({"INSTANCE_ID": "x" * 129}, "INSTANCE_ID"),
    ({"INSTANCE_ID": "x", "MAX_STREAMS": "many"}, "MAX_STREAMS"),
    ({"INSTANCE_ID": "x", "MAX_STREAMS": "10001"}, "MAX_STREAMS"),
    ({"INSTANCE_ID": "x", "MAX_STREAMS": "-1"}, "MAX_STREAMS"),
    ({"INSTANCE_ID": "x", "LEAVE_RETURN_WITHIN_MS": "soon"}, "LEAVE_RETURN_WITHIN_MS"),
    ({"INSTANCE_ID": "x", "ORCHESTRATOR_TOKEN": "not a header"}, "ORCHESTRATOR_TOKEN"),
    ({"INSTANCE_ID": "x", "ORCHESTRATOR_CA_FILE": "/nonexistent/ca.pem"}, "ORCHESTRATOR_CA_FILE"),
    ({"INSTANCE_ID": "x", "ORCHESTRATOR_CERT_FILE": "/c.pem"}, "ORCHESTRATOR_KEY_FILE"),
])
def test_one_error_naming_the_variable(env, variable):
    with pytest.raises(ConfigError) as error:
        ClientConfig.from_env(env)
    assert str(error.value).startswith(variable), str(error.value)
    assert "not a header" not in str(error.value), "never the token"
