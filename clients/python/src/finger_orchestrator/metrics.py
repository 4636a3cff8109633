"""Host metrics for heartbeats, with the names the legacy orchestrator used.

Standard library only (os.getloadavg, shutil.disk_usage and Linux's /proc), so a worker
needs no psutil. Reads take well under a millisecond, so they run inline
on the event loop. Anything a platform lacks is left out rather than sent as a misleading zero.
"""
from __future__ import annotations

import os
import shutil
from typing import Dict, List, Union

Metrics = Dict[str, Union[float, List[float]]]


class SystemMetrics:
    """Call it for the current metrics; cpu_percent covers the time since the previous call."""

    def __init__(self, disk_path: str = "/"):
        self._disk_path = disk_path
        self._last_cpu = (0, 0)  # the first cpu_percent is the average since boot

    def __call__(self) -> Metrics:
        metrics: Metrics = {}
        for part in (self._cpu, _memory, self._disk, _load, _uptime):
            try:
                metrics.update(part())
            except (OSError, ValueError, KeyError, IndexError, ZeroDivisionError):
                pass
        return metrics

    def _cpu(self) -> Metrics:
        # /proc/stat counts since boot; the busy share between two heartbeats is the current load.
        busy, total = _cpu_times()
        last_busy, last_total = self._last_cpu
        self._last_cpu = (busy, total)
        return {"cpu_percent": round(100.0 * (busy - last_busy) / (total - last_total), 1)}

    def _disk(self) -> Metrics:
        usage = shutil.disk_usage(self._disk_path)
        return {
            "disk_percent": round(100.0 * usage.used / usage.total, 1),
            "disk_free_gb": round(usage.free / 2**30, 2),
            "disk_total_gb": round(usage.total / 2**30, 2),
        }


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs: user nice system idle iowait irq softirq steal."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _memory() -> Metrics:
    with open("/proc/meminfo") as f:
        kb = {line.split(":")[0]: int(line.split()[1]) for line in f}
    total, used = kb["MemTotal"], kb["MemTotal"] - kb["MemAvailable"]
    return {
        "memory_percent": round(100.0 * used / total, 1),
        "memory_used_gb": round(used / 2**20, 2),
        "memory_total_gb": round(total / 2**20, 2),
    }


def _load() -> Metrics:
    return {"load_average": [round(v, 2) for v in os.getloadavg()]}


def _uptime() -> Metrics:
    with open("/proc/uptime") as f:
        return {"uptime_seconds": float(f.read().split()[0])}
