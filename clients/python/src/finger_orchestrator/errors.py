"""The errors a worker may have to tell apart."""
from __future__ import annotations


class HelloRejected(Exception):
    """The orchestrator refused this instance for good: a bad hello (INVALID_ARGUMENT) or
    credentials that name another instance or role (PERMISSION_DENIED). A configuration error
    of the worker's that retrying cannot fix; the client stops reconnecting."""


class ConfigError(ValueError):
    """A bad configuration value; the message names the variable (never a token's value)."""
