"""How ``ORCHESTRATOR_URL`` becomes gRPC targets (one, or several replicas' separated by
commas), as the TypeScript client's parseOrchestratorUrl reads it, and the check of a
leave's ``return_within_ms``."""
from __future__ import annotations

import urllib.parse

DEFAULT_PORT = 50051
DEFAULT_TLS_PORT = 443
MAX_UINT32 = 2**32 - 1


def parse_target(url: str) -> tuple[str, bool]:
    """``host``, ``host:port`` or ``scheme://host[:port]`` as a gRPC target and whether it
    needs TLS: ``https://`` and ``grpcs://`` mean TLS (port 443 by default), ``http://``,
    ``grpc://`` and none plaintext (port 50051 by default). Raises ValueError."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        scheme, rest = "grpc", url.strip()
    if scheme.lower() not in ("http", "https", "grpc", "grpcs"):
        raise ValueError(f"unsupported scheme {scheme!r} in {url!r} (use host:port, http(s):// or grpc(s)://)")
    tls = scheme.lower() in ("https", "grpcs")
    parts = urllib.parse.urlsplit("//" + rest)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{url!r}: a gRPC target has no path, only a host and a port")
    try:
        port = parts.port
    except ValueError:  # urlsplit's message does not say which URL
        raise ValueError(f"{url!r}: the port must be a number from 0 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port or (DEFAULT_TLS_PORT if tls else DEFAULT_PORT)}", tls


def parse_targets(value: str) -> tuple[list[str], bool]:
    """A comma-separated list of what ``parse_target`` reads, for several orchestrator
    replicas: the targets in order, without repeats, and whether they need TLS. One set of
    credentials serves them all, so the schemes must agree; an entry without one follows the
    others (``grpcs://a,b`` is TLS to both). Raises ValueError naming the wrong entry."""
    entries = [entry.strip() for entry in value.split(",")]

    def parse(index: int, entry: str, scheme: str = "") -> tuple[str, bool]:
        if not entry:
            raise ValueError(f"entry {index} of {value!r} is empty")
        try:
            return parse_target(entry if "://" in entry else scheme + entry)
        except ValueError as error:
            raise ValueError(f"entry {index} ({entry!r}): {error}") from None

    schemes = {parse(i, e)[1] for i, e in enumerate(entries, 1) if "://" in e}
    if len(schemes) > 1:
        raise ValueError(f"{value!r} mixes TLS (https://, grpcs://) and plaintext entries; use one kind for all")
    tls = schemes.pop() if schemes else False
    scheme = "grpcs://" if tls else ""
    targets = [parse(i, e, scheme)[0] for i, e in enumerate(entries, 1)]
    return list(dict.fromkeys(targets)), tls


def check_return_within_ms(value: object, field: str = "return_within_ms") -> int:
    """A leave's ``return_within_ms`` as an int: whole milliseconds from 0 (a plain leave) to
    the proto's uint32 maximum (the server caps it at its MAX_RETURN_WITHIN_MS). ``value`` may
    be a string, as read from the environment. Raises ValueError naming ``field``."""
    ms = value
    if isinstance(value, str):
        try:
            ms = int(value.strip(), 10)
        except ValueError:
            ms = None
    if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= MAX_UINT32:
        raise ValueError(f"{field} must be a whole number of milliseconds from 0 (a plain leave) "
                         f"to {MAX_UINT32}, got {value!r}")
    return ms
