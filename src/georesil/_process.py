"""Whether a process is alive: the one check the lab and the drills share."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["pid_alive"]


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists and is not a zombie.

    A zombie (exited, not yet reaped by its parent) counts as dead: it holds no port and
    does no work. Where there is no ``/proc``, the kernel is asked with signal 0.
    """
    if pid <= 0:
        return False
    if Path("/proc/self").exists():
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
