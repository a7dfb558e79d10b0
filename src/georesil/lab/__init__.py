"""The lab: one moto server per site on 127.0.0.1, provisioned like the real thing, that can
be killed, revived and made to misbehave on demand. See docs/lab.md."""

from __future__ import annotations

from georesil.lab.faults import HEALTH_PATH, FaultSettings
from georesil.lab.lifecycle import (
    LabStatus,
    SiteStatus,
    kill_site,
    lab_clients,
    lab_down,
    lab_status,
    lab_up,
    moto_admin,
    probe,
    revive_site,
    set_faults,
)
from georesil.lab.state import LabState, SiteState, load_state, require_state

__all__ = [
    "HEALTH_PATH",
    "FaultSettings",
    "LabState",
    "LabStatus",
    "SiteState",
    "SiteStatus",
    "kill_site",
    "lab_clients",
    "lab_down",
    "lab_status",
    "lab_up",
    "load_state",
    "moto_admin",
    "probe",
    "require_state",
    "revive_site",
    "set_faults",
]
