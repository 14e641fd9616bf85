"""A process that Strata started, recognised again later by pid *and* start time (pids are recycled)."""

from __future__ import annotations

from dataclasses import dataclass

import psutil


@dataclass
class ProcessRef:
    pid: int
    started: float

    def alive(self) -> bool:
        """True if this very process still runs (same pid *and* start time) and is not a zombie."""
        try:
            process = psutil.Process(self.pid)
            return abs(process.create_time() - self.started) < 0.5 and process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    @classmethod
    def of(cls, pid: int) -> "ProcessRef":
        return cls(pid, psutil.Process(pid).create_time())
