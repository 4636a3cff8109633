"""finger-orchestrator's client for Python workers: keeps one Connect session open and runs
exactly the radio streams the orchestrator assigns, through ``on_start`` and ``on_stop``.

    from finger_orchestrator import OrchestratorClient
"""
from .client import OrchestratorClient
from .config import ClientConfig
from .errors import ConfigError, HelloRejected
from .fencing import Fence, schema_from_env
from .metrics import SystemMetrics
from .security import ChannelSecurity, security_from_env
from .stream import Stream
from .targets import parse_target, parse_targets
from .threaded import ThreadedClient

__all__ = ["OrchestratorClient", "ClientConfig", "ConfigError", "HelloRejected", "Fence", "schema_from_env", "SystemMetrics",
           "ChannelSecurity", "security_from_env", "Stream", "parse_target", "parse_targets", "ThreadedClient"]
__version__ = "0.1.0"
