"""What the orchestrator client hands a worker: the streams it must record, the error for a
refused hello, and how ``ORCHESTRATOR_URL`` becomes a gRPC target."""
from __future__ import annotations

import dataclasses
import urllib.parse
from typing import Dict

DEFAULT_PORT = 50051


class HelloRejected(Exception):
    """The orchestrator refused our hello (INVALID_ARGUMENT): a configuration error retrying cannot fix."""


@dataclasses.dataclass(frozen=True)
class Stream:
    """A radio stream this instance must record; ``epoch`` is the grant's fencing token."""

    id: str
    url: str
    name: str
    metadata: Dict[str, str]
    epoch: int


def parse_target(url: str) -> tuple[str, bool]:
    """Turns ``host``, ``host:port`` or the old guide's ``http(s)://host:port`` into a gRPC
    target and whether it needs TLS; the port defaults to 50051."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        scheme, rest = "grpc", url.strip()
    if scheme.lower() not in ("http", "https", "grpc", "grpcs"):
        raise ValueError(f"unsupported scheme {scheme!r} in {url!r} (use host:port)")
    parts = urllib.parse.urlsplit("//" + rest)
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{parts.port or DEFAULT_PORT}", scheme.lower() in ("https", "grpcs")
