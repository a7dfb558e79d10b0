"""Infrastructure as code: Pulumi components built from the topology, and the moto lab engine.

Importing this package imports neither pulumi nor boto3; the submodules that need them do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from georesil.provision.outputs import BucketRef, StackOutputs

if TYPE_CHECKING:  # the real import is lazy, in __getattr__
    from georesil.provision.moto_engine import provision_moto

__all__ = ["DEFAULT_STACK", "BucketRef", "StackOutputs", "provision_moto"]

#: The one default stack name, for ``deploy`` and ``provision`` alike.
DEFAULT_STACK = "dev"


def __getattr__(name: str) -> object:
    if name == "provision_moto":
        from georesil.provision.moto_engine import provision_moto

        return provision_moto
    raise AttributeError(f"module 'georesil.provision' has no attribute {name!r}")
