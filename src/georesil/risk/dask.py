# mypy: disallow-untyped-calls=False
# (dask.distributed ships py.typed, but Client, LocalCluster and their methods are unannotated)
"""The Dask engine: snapshot chunks on a dask.distributed cluster.

With a scheduler address (``tcp://HOST:PORT``) the engine connects to an existing cluster,
whose workers must have georesil installed; without one it starts a ``LocalCluster`` of worker
processes bound to 127.0.0.1 (its dashboard on a free port chosen by the OS:
``dashboard_address=None`` does not turn it off), and closes it afterwards. The model is
scattered to every worker once; tasks are the same chunk ranges as the local engine's, so the
results are identical for the same seed.

dask is imported when this module is imported: import it only where the engine is used.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from distributed import Client, LocalCluster, as_completed

from georesil.errors import InvalidInput
from georesil.risk.chunks import Counts, ImportancePlan, run_chunks
from georesil.risk.engine import Task, children_ignore_sigint
from georesil.risk.snapshot import SnapshotModel

__all__ = ["DaskEngine"]


@dataclass
class DaskEngine:
    """Runs tasks on a dask.distributed cluster (a new local one unless ``scheduler`` is given).

    Args:
        workers: Worker processes of the local cluster (ignored with ``scheduler``).
        scheduler: ``tcp://HOST:PORT`` of an existing scheduler.
        client: An existing client to use (tests share one cluster this way).
    """

    workers: int = 2
    scheduler: str | None = None
    client: Client | None = None
    _cluster: LocalCluster | None = field(default=None, repr=False)
    _owns_client: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise InvalidInput(f"--workers: got {self.workers}; need at least 1", field="workers")
        if self.scheduler is not None and not self.scheduler.startswith(("tcp://", "tls://")):
            raise InvalidInput(
                f"--scheduler: got {self.scheduler!r}; expected tcp://HOST:PORT",
                field="scheduler", value=self.scheduler,
            )

    def __enter__(self) -> DaskEngine:
        self._connect()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close(quiet=exc_type is not None)

    def _connect(self) -> Client:
        if self.client is not None:
            return self.client
        if self.scheduler is not None:
            try:
                self.client = Client(self.scheduler, timeout="10s")
            except OSError as exc:
                raise InvalidInput(
                    f"--scheduler: cannot reach {self.scheduler}: {exc}",
                    field="scheduler", value=self.scheduler,
                ) from exc
        else:
            with children_ignore_sigint():
                # silence_logs: a private cluster's workers report task errors to the client;
                # their own logs would only add noise (and a worker stopped mid-task on Ctrl-C
                # logs closed connections)
                self._cluster = LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address=":0", silence_logs=logging.CRITICAL,
                )
            self.client = Client(self._cluster)
        self._owns_client = True
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        return self.client

    def close(self, quiet: bool = False) -> None:
        """Close what this engine opened; ``quiet`` after an interruption, when tearing down
        mid-task makes the scheduler and nannies log expected errors."""
        with _quiet() if quiet else nullcontext():
            if self._owns_client and self.client is not None:
                self.client.close()
                self.client = None
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None

    def run(self, model: SnapshotModel, seed: int, tasks: list[Task], n_trials: int,
            plan: ImportancePlan) -> Iterator[tuple[Task, Counts]]:
        client = self._connect()
        futures: dict[Any, Task] = {}
        try:
            [shared] = client.scatter([model], broadcast=True)
            futures = {
                client.submit(run_chunks, shared, seed, t.chunks, n_trials, plan, pure=False): t
                for t in tasks
            }
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        except BaseException:  # Ctrl-C or a failed task: drop the queued work, then stop
            with _quiet():
                if futures:
                    client.cancel(list(futures))
            self.close(quiet=True)
            raise


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence dask's, asyncio's and tornado's loggers (children with their own level too)."""
    names = [name for name in logging.root.manager.loggerDict
             if name.split(".")[0] in ("distributed", "asyncio", "tornado")]
    loggers = [logging.getLogger(name) for name in {"distributed", "asyncio", "tornado", *names}]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)
