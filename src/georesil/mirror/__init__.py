"""Object-replication audit (:func:`verify`) and repair (:func:`sync`) between sites.

moto — like many sovereign S3-compatible stores — accepts a replication configuration but
never copies an object, so georesil checks and repairs replication itself. See docs/mirror.md.
"""

from __future__ import annotations

from georesil.mirror.schedule import Round, parse_interval, run_every
from georesil.mirror.sync import (
    Checkpoint,
    SiteSync,
    SyncResult,
    checkpoint_path,
    read_checkpoint,
    sync,
)
from georesil.mirror.verify import (
    KeyDiff,
    MirrorReport,
    SecondaryReport,
    Version,
    diff_key,
    list_versions,
    verify,
)

__all__ = [
    "Checkpoint",
    "KeyDiff",
    "MirrorReport",
    "Round",
    "SecondaryReport",
    "SiteSync",
    "SyncResult",
    "Version",
    "checkpoint_path",
    "diff_key",
    "list_versions",
    "parse_interval",
    "read_checkpoint",
    "run_every",
    "sync",
    "verify",
]
