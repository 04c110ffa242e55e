"""Which process runs an import, and whether it still lives: a killed import (kill -9, a crash,
a reboot) cannot mark its own run, so a later process must recognise that the run's process is
gone. A process is its host, its pid and its start time — the start time because pids are reused
(after a reboot, or once the counter wraps)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

# Two readings of one process's start time differ by the clock tick and by the rounding of the
# boot time to whole seconds; a reused pid started at least this much later.
SAME_START = timedelta(seconds=2)


@dataclass(frozen=True)
class ProcessId:
    host: str
    pid: int
    started: datetime | None  # None where the system does not say (no /proc)


def this_process() -> ProcessId:
    return ProcessId(host_name(), os.getpid(), start_time(os.getpid()))


def host_name() -> str:
    return socket.gethostname()[:255]


def is_gone(process: ProcessId) -> bool | None:
    """True when `process` has ended; False when it (or a process that may be it) runs; None when
    that cannot be known here (another host)."""
    if process.host != host_name():
        return None
    if not _pid_exists(process.pid) or _is_zombie(process.pid):
        return True
    if process.started is None:
        return False
    now_started = start_time(process.pid)
    return now_started is not None and abs(now_started - process.started) > SAME_START


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:  # an invalid pid (out of range)
        return False
    return True


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses); None
    without /proc or once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _is_zombie(pid: int) -> bool:
    # A killed child its parent has not waited for yet: it has ended, though its pid still answers.
    fields = _stat_fields(pid)
    return fields is not None and fields[0] in ("Z", "X")


def start_time(pid: int) -> datetime | None:
    """When process `pid` started (Linux: /proc), to the clock tick; None where unknown."""
    fields = _stat_fields(pid)
    boot = _boot_time()
    if fields is None or boot is None:
        return None
    ticks = int(fields[19])  # field 22 of stat, counted from the state (field 3)
    return boot + timedelta(seconds=ticks / os.sysconf("SC_CLK_TCK"))


@cache
def _boot_time() -> datetime | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return datetime.fromtimestamp(int(line.split()[1]), UTC)
    except OSError:
        pass
    return None
