"""How the client reaches the orchestrator securely: TLS (gRPC's default roots, or a CA of
the operator's, plus a client certificate for mutual TLS) and a bearer token.

The same settings and rules as the TypeScript client's ``securityFromEnv``
(src/client/connection-security.ts), for grpc.aio channels. The token goes out as call metadata
(``authorization: Bearer <token>``) rather than as gRPC call credentials, which grpcio
refuses on a plaintext channel: behind a proxy that terminates TLS, or on loopback, the
token must still be sent. It never appears in a repr, a log line or an error message.
"""
from __future__ import annotations

import dataclasses
import re
import ssl
from typing import Mapping, Optional, Sequence, Tuple

import grpc
import grpc.aio

# The server allows a ping every 10 s; pings notice a dead VPN or NAT long before TCP does.
CHANNEL_OPTIONS = [("grpc.keepalive_time_ms", 15_000), ("grpc.keepalive_timeout_ms", 5_000),
                   ("grpc.keepalive_permit_without_calls", 1)]
# What a token may hold in a header (RFC 6750's b64token), as the orchestrator accepts it.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclasses.dataclass(frozen=True)
class ChannelSecurity:
    """Plaintext unless ``tls``; ``ca`` replaces the default roots; ``cert`` and ``key`` (PEM
    bytes, both or neither) are the client certificate for an orchestrator with mutual TLS."""

    token: Optional[str] = dataclasses.field(default=None, repr=False)  # a secret: never printed
    tls: bool = False
    ca: Optional[bytes] = dataclasses.field(default=None, repr=False)
    cert: Optional[bytes] = dataclasses.field(default=None, repr=False)
    key: Optional[bytes] = dataclasses.field(default=None, repr=False)

    def __post_init__(self):
        if self.token is not None:
            check_token(self.token)
        if (self.cert is None) != (self.key is None):
            raise ValueError("tls: a client certificate needs its key, and a key its certificate")

    def describe(self) -> str:
        """How the channel is protected, for the log: never the token itself."""
        kind = "mutual TLS" if self.cert else "TLS" if self.tls else "plaintext"
        return f"{kind}, {'with' if self.token else 'no'} token"

    def metadata(self) -> Sequence[Tuple[str, str]]:
        """What every call carries: the token, if any."""
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    def open_channel(self, target: str, server_name: Optional[str] = None) -> grpc.aio.Channel:
        """``server_name``: the host name ``target`` (one of its address records) stands for;
        TLS checks the certificate against it, and the calls' authority names it."""
        options = list(CHANNEL_OPTIONS)
        if server_name:
            options.append(("grpc.default_authority", f"{server_name}:{target.rpartition(':')[2]}"))
            if self.tls:
                options.append(("grpc.ssl_target_name_override", server_name))
        if not self.tls:
            return grpc.aio.insecure_channel(target, options)
        credentials = grpc.ssl_channel_credentials(
            root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert)
        return grpc.aio.secure_channel(target, credentials, options)


def check_token(token: str, field: str = "token") -> None:
    """Raises ValueError naming ``field`` (never echoing the value) when it cannot be a header."""
    if not _TOKEN.fullmatch(token):
        raise ValueError(f"{field}: may hold only letters, digits and - . _ ~ + / (with = at the end)")


def security_from_env(env: Mapping[str, str], tls: bool = False) -> ChannelSecurity:
    """ORCHESTRATOR_TOKEN, and TLS when ``tls`` (an https:// or grpcs:// URL) or any of
    ORCHESTRATOR_CA_FILE, ORCHESTRATOR_CERT_FILE and ORCHESTRATOR_KEY_FILE is set.
    Raises ValueError naming the variable (and the file) that is wrong."""
    token = (env.get("ORCHESTRATOR_TOKEN") or "").strip() or None
    if token:
        check_token(token, "ORCHESTRATOR_TOKEN")
    paths = {name: (env.get(name) or "").strip() or None
             for name in ("ORCHESTRATOR_CA_FILE", "ORCHESTRATOR_CERT_FILE", "ORCHESTRATOR_KEY_FILE")}
    cert_path, key_path = paths["ORCHESTRATOR_CERT_FILE"], paths["ORCHESTRATOR_KEY_FILE"]
    if bool(cert_path) != bool(key_path):
        have, missing = (("ORCHESTRATOR_CERT_FILE", "ORCHESTRATOR_KEY_FILE") if cert_path
                         else ("ORCHESTRATOR_KEY_FILE", "ORCHESTRATOR_CERT_FILE"))
        raise ValueError(f"{missing} must be set too: {have} is, and mutual TLS needs both (or neither)")
    files = {name: _read(name, path) for name, path in paths.items() if path}
    ca = files.get("ORCHESTRATOR_CA_FILE")
    if ca is not None:
        _check_ca(paths["ORCHESTRATOR_CA_FILE"], ca)
    if cert_path:
        _check_pair(cert_path, key_path)
    return ChannelSecurity(token=token, tls=tls or bool(files), ca=ca,
                           cert=files.get("ORCHESTRATOR_CERT_FILE"), key=files.get("ORCHESTRATOR_KEY_FILE"))


def _read(name: str, path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise ValueError(f"{name}={path}: cannot be read ({error.strerror or error})") from None


# Checked here because grpcio only finds a bad file at the handshake, as an UNAVAILABLE
# that looks like a network problem and is retried forever.
def _check_ca(path: str, pem: bytes) -> None:
    try:
        ssl.create_default_context(cadata=pem.decode("ascii"))
    except (ssl.SSLError, ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"ORCHESTRATOR_CA_FILE={path}: not a PEM CA certificate ({error})") from None


def _check_pair(cert_path: str, key_path: str) -> None:
    try:
        # A password keeps OpenSSL from prompting on the terminal for an encrypted key.
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert_path, key_path, password=b"")
    except (ssl.SSLError, ValueError) as error:
        raise ValueError(f"ORCHESTRATOR_CERT_FILE={cert_path} with ORCHESTRATOR_KEY_FILE={key_path}: "
                         f"not a PEM certificate and its unencrypted key ({error})") from None
