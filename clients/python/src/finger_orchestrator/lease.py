"""Strict mode's clock: fires at the moment the streams must stop, when the lease runs out
(``lease_ttl`` after the last acknowledged message was *sent*, or later when a restarting
orchestrator's go_away promised more). The orchestrator moves nothing before then, connected
or not (README, "Why a stream never runs on two strict instances"). Monotonic time
(the event loop's clock): a wall-clock step neither stops streams early nor keeps them late.
"""
from __future__ import annotations

import asyncio
from typing import Callable, Optional


class LeaseWatchdog:
    def __init__(self, on_expire: Callable[[], None]):
        self._on_expire = on_expire
        self._handle: Optional[asyncio.TimerHandle] = None
        self.deadline: Optional[float] = None

    def arm_at(self, deadline: float) -> None:
        """(Re)schedules expiry at ``deadline`` (loop time); fires soon if that already passed."""
        self.disarm()
        self.deadline = deadline
        self._handle = asyncio.get_running_loop().call_at(deadline, self._fire)

    def disarm(self) -> None:
        if self._handle:
            self._handle.cancel()
        self._handle, self.deadline = None, None

    def _fire(self) -> None:
        self._handle, self.deadline = None, None
        self._on_expire()
