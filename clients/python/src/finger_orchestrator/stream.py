"""A radio stream the orchestrator granted to this instance."""
from __future__ import annotations

import dataclasses
from typing import Mapping

from ._generated import orchestrator_pb2 as pb


@dataclasses.dataclass(frozen=True)
class Stream:
    """A stream this instance must record. ``epoch`` is the grant's fencing token: strictly
    larger for every new grant of the stream, unchanged while it stays this instance's
    (across reconnects and orchestrator restarts)."""

    id: str
    url: str
    name: str
    metadata: Mapping[str, str]
    epoch: int

    @classmethod
    def from_proto(cls, stream: pb.Stream) -> "Stream":
        return cls(stream.id, stream.url, stream.name, dict(stream.metadata), stream.epoch)
