"""The client's settings from the environment names workers already use, with one clear error
(``ConfigError``, naming the variable) per bad value:

  ORCHESTRATOR_URL or ORCHESTRATOR_ADDRESS   host:port, http(s):// or grpc(s)://; several replicas'
                                              separated by commas (default localhost:50051)
  INSTANCE_ID (or SERVER_ID)                  unique, stable id of this worker (required)
  MAX_STREAMS                                 capacity, 0 to 10000 (default 10)
  ORCHESTRATOR_TOKEN                          sent as authorization: Bearer <token>
  ORCHESTRATOR_CA_FILE                        a PEM CA to trust (turns TLS on)
  ORCHESTRATOR_CERT_FILE, ORCHESTRATOR_KEY_FILE  a client certificate and key, for mutual TLS
  LEAVE_RETURN_WITHIN_MS                      on SIGTERM (a restart), how long the streams wait for
                                              the next process, unrun (default 60000; 0: they move)

``HEARTBEAT_INTERVAL`` of the old HTTP client is ignored: the orchestrator dictates it.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from typing import List, Mapping, Optional

from .client import MAX_CAPACITY
from .errors import ConfigError
from .security import ChannelSecurity, security_from_env
from .targets import check_return_within_ms, parse_targets

log = logging.getLogger("finger_orchestrator")


@dataclasses.dataclass(frozen=True)
class ClientConfig:
    targets: List[str]
    instance_id: str
    capacity: int
    security: ChannelSecurity
    leave_return_within_ms: int

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "ClientConfig":
        """Reads ``env`` (default ``os.environ``); raises ConfigError naming the wrong variable."""
        env = os.environ if env is None else env
        name = "ORCHESTRATOR_URL" if env.get("ORCHESTRATOR_URL") else "ORCHESTRATOR_ADDRESS"
        try:
            targets, tls = parse_targets(env.get(name) or "localhost:50051")
            security = security_from_env(env, tls)
        except ValueError as error:
            message = str(error)
            raise ConfigError(message if message.startswith("ORCHESTRATOR_") else f"{name}: {message}") from None
        for target in targets:
            if target.endswith(":8080"):
                log.warning("%s is the orchestrator's HTTP port; instances connect to its gRPC port (50051)", target)
        id_name = "INSTANCE_ID" if env.get("INSTANCE_ID") else "SERVER_ID"
        instance_id = (env.get(id_name) or "").strip()
        if not instance_id:
            raise ConfigError("INSTANCE_ID (or SERVER_ID) must be set, e.g. finger_app_1")
        if len(instance_id) > 128:
            raise ConfigError(f"{id_name} must be 1 to 128 characters, got {len(instance_id)}")
        raw = env.get("MAX_STREAMS", "10").strip()
        if not raw.isdigit() or int(raw) > MAX_CAPACITY:
            raise ConfigError(f"MAX_STREAMS must be a whole number from 0 to {MAX_CAPACITY}, got {raw!r}")
        try:
            within = check_return_within_ms(env.get("LEAVE_RETURN_WITHIN_MS", "60000"), "LEAVE_RETURN_WITHIN_MS")
        except ValueError as error:
            raise ConfigError(str(error)) from None
        return cls(targets, instance_id, int(raw), security, within)
