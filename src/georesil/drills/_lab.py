"""The lab as a drill sees it: kill and revive sites of the lab in a working directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["WorkdirLab"]


@dataclass(frozen=True)
class WorkdirLab:
    """``lab.kill_site`` / ``lab.revive_site`` through :mod:`georesil.lab`."""

    workdir: Path

    def kill(self, site: str) -> None:
        from georesil.lab import kill_site

        kill_site(site, self.workdir)

    def revive(self, site: str) -> None:
        from georesil.lab import revive_site

        revive_site(site, self.workdir)
