"""grpcio and the stubs generate.sh makes, imported once for the client's modules, with
the fix for each way they can be missing (a setup problem, not a bug: say how to fix it)."""
from __future__ import annotations

import sys
from pathlib import Path

try:
    import grpc  # noqa: F401 (re-exported)
except ImportError as error:
    raise ImportError(f"{error}: apt-get install python3-grpcio python3-protobuf, "
                      f"and run Debian's /usr/bin/python3 (this is {sys.executable})") from error
# Stubs made by generate.sh live in gen/ beside this file; PYTHONPATH entries win over it.
_GEN_DIR = Path(__file__).resolve().parent / "gen"
if _GEN_DIR.is_dir() and str(_GEN_DIR) not in sys.path:
    sys.path.append(str(_GEN_DIR))
try:
    from orchestrator.v1 import orchestrator_pb2 as pb  # noqa: F401
    from orchestrator.v1 import orchestrator_pb2_grpc as pb_grpc  # noqa: F401
except ImportError as error:
    raise ImportError(f"{error}: generate the stubs first with examples/python/generate.sh") from error
