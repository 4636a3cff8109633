"""Which orchestrator replica to dial next, and after how long.

With several replicas (one leader elected through PostgreSQL, the others standbys) only the
leader welcomes instances; a standby answers at once with a go_away that names the leader when
it knows it. So the client tries the addresses one after another without waiting and pays the
reconnect backoff once per full cycle through them, as the TypeScript client does
(src/client/address-rotation.ts). Ported from examples/python/orchestrator_addresses.py:

- a cycle is the endpoints the addresses stand for, resolved again for every cycle: a host name
  with several address records counts as one endpoint per record (grpc's pick_first would
  always settle on the first record that accepts TCP, maybe a standby), dialled by IP with the
  name kept as the TLS server name;
- after a welcome, the next cycle starts at the endpoint that welcomed (a blip or a restart of
  the leader is the common case), or ends with it when that leader said go_away itself;
- a go_away naming the leader sends the next attempt there at once, once, outside the cycle;
  replicas naming each other in a loop are cut off after more hints in a row than the cycle
  has endpoints, plus one;
- a welcomed session that broke waits the backoff; a go_away waits what the server asked for,
  and also the backoff when it ends a cycle;
- a name look-up gets ``resolve_timeout`` seconds (2 by default, as the TypeScript client's
  RESOLVE_TIMEOUT_MS): getaddrinfo has no deadline of its own, and with an unreachable DNS
  server it blocks for the resolver's retries (10 s and more); past the deadline the name is
  dialled as it is, and grpc resolves it itself.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import ipaddress
import logging
import random
import socket
from typing import Callable, List, Optional, Sequence

log = logging.getLogger("finger_orchestrator")

Resolver = Callable[[str, int], List[str]]  # host, port -> its addresses, in the order to try them

RESOLVE_TIMEOUT_S = 2.0

# Look-ups run here so that one that hangs can be given up on: a thread blocked in getaddrinfo
# cannot be interrupted, so it is left to finish on its own while the client dials the name as is.
_resolver_threads = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="finger-resolve")


class ResolveTimeout(OSError):
    """A name look-up did not answer in time."""


def with_deadline(resolve: Resolver, timeout: float = RESOLVE_TIMEOUT_S) -> Resolver:
    """``resolve``, raising ResolveTimeout when it takes longer than ``timeout`` seconds."""
    def bounded(host: str, port: int) -> List[str]:
        future = _resolver_threads.submit(resolve, host, port)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise ResolveTimeout(f"no answer within {timeout:g} s") from None
    return bounded


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """A ``host:port`` to dial; ``server_name`` is set when it is one record of that host name."""

    address: str
    server_name: Optional[str] = None

    def describe(self) -> str:
        return f"{self.address} ({self.server_name})" if self.server_name else self.address


def system_resolver(host: str, port: int) -> List[str]:
    """Every record getaddrinfo gives for ``host`` (/etc/hosts, DNS), in its order."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _split(address: str) -> Optional[tuple[str, int]]:
    """``host:port`` apart (no brackets around IPv6), or None for any other gRPC target."""
    host, _, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host or "/" in host:  # unix:..., dns:///..., a bare IPv6 address
        return None
    return (host, int(port)) if host and port.isdigit() else None


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def expand_targets(targets: Sequence[str], resolve: Resolver) -> List[Endpoint]:
    """The endpoints ``targets`` stand for now, in order, without repeats. Literal IPs, names
    with one record, names that do not resolve (grpc reports why) and targets that are no
    ``host:port`` (``unix:``, ``dns:///``) stay as they are."""
    endpoints: List[Endpoint] = []
    for target in targets:
        split = _split(target)
        host, port = split or ("", 0)
        records: List[str] = []
        if split and not _is_ip(host):
            try:
                records = list(dict.fromkeys(resolve(host, port)))
            except ResolveTimeout as error:
                log.warning("could not resolve %s (%s); dialling it as it is", target, error)
            except OSError as error:
                log.debug("could not resolve %s (%s); dialling it as it is", target, error)
        if len(records) > 1:
            found = [Endpoint(_join(record, port), host) for record in records]
        else:
            found = [Endpoint(target)]
        endpoints.extend(e for e in found if e not in endpoints)
    return endpoints


class AddressRotation:
    """Where the client connects next: ``take()`` before each call, ``welcomed()`` on a
    welcome, ``after(...)`` once the call ended, which returns the seconds to wait."""

    def __init__(self, targets: Sequence[str], resolve: Optional[Resolver] = system_resolver, *,
                 backoff_initial: float = 0.1, backoff_max: float = 1.0,
                 rand: Callable[[], float] = random.random, resolve_timeout: float = RESOLVE_TIMEOUT_S):
        self._targets = list(targets)
        self._resolve = with_deadline(resolve, resolve_timeout) if resolve is not None else None
        self._backoff_initial, self._backoff_max, self._attempt = backoff_initial, backoff_max, 0
        self._rand = rand
        self._cycle: Optional[List[Endpoint]] = None  # None: the next cycle has not begun
        self._cycle_size = 1
        self._hint: Optional[Endpoint] = None
        self._hints = 0
        self._anchor: Optional[Endpoint] = None  # the endpoint that welcomed last
        self._anchor_last = False
        self.current: Optional[Endpoint] = None

    def take(self) -> Endpoint:
        endpoint, self._hint = self._hint, None
        if endpoint is None:
            if not self._cycle:
                self._cycle = self._new_cycle()
            endpoint = self._cycle.pop(0)
        self.current = endpoint
        return endpoint

    def welcomed(self) -> None:
        self._attempt = 0
        self._anchor, self._anchor_last = self.current, False
        self._cycle, self._hints = None, 0

    def after(self, welcomed: bool, reconnect_after_ms: Optional[int] = None, leader_address: str = "") -> float:
        """``reconnect_after_ms`` is None unless the server sent go_away."""
        went_away = reconnect_after_ms is not None
        asked = (reconnect_after_ms or 0) / 1000
        if welcomed and went_away:  # the leader itself is going away: the others first
            self._anchor_last = True
        hint = self._leader_hint(leader_address)
        if hint is not None:
            if self._hints < self._cycle_size + 1:
                self._hints += 1
                self._hint = hint
                if self._cycle is not None:  # tried now, so not again in this cycle
                    self._cycle = [e for e in self._cycle if e.address != hint.address]
                log.info("following the go_away of %s to the leader at %s", self.current.address, hint.address)
                return 0.0
            log.warning("replicas keep naming each other as the leader (%d hints); backing off", self._hints)
            return self._end_cycle(asked)
        if welcomed:
            return asked if went_away else self._end_cycle(0.0)
        return asked if self._cycle is None or self._cycle else self._end_cycle(asked)

    def _end_cycle(self, asked: float) -> float:
        self._cycle, self._hints = None, 0
        # Full jitter: a fleet reconnecting after an outage spreads out instead of stampeding.
        ceiling = min(self._backoff_max, self._backoff_initial * 2 ** min(self._attempt, 30))
        self._attempt += 1
        return max(asked, self._rand() * ceiling)

    def _leader_hint(self, leader_address: str) -> Optional[Endpoint]:
        address = leader_address.strip()
        if not address or (self.current and address == self.current.address):
            return None
        if _split(address) is None:
            log.warning("ignoring a go_away's leader address that is not host:port: %r", leader_address)
            return None
        return Endpoint(address)

    def _new_cycle(self) -> List[Endpoint]:
        if self._resolve is None:
            endpoints = [Endpoint(t) for t in self._targets]
        else:
            endpoints = expand_targets(self._targets, self._resolve)
        self._cycle_size = len(endpoints)
        anchor = self._anchor
        if anchor is None:
            return endpoints
        if anchor not in endpoints:  # a leader reached through a hint: first after a blip, then gone
            return endpoints if self._anchor_last else [anchor, *endpoints]
        at = endpoints.index(anchor)
        rotated = endpoints[at:] + endpoints[:at]
        return rotated[1:] + [anchor] if self._anchor_last else rotated
