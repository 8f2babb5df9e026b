"""Report runs on an existing Dask distributed cluster (``orglife report --scheduler ADDRESS``).

Branches go out in chunks; each Dask worker thread keeps one warm kernel (``runner.worker_engine``) across chunks,
and a worker plugin shuts the kernels down with the worker. Workers send the rendered text back and the client
writes the files, so ``--out`` fills exactly as in a local run even when workers share no disk with the analyst.
Workers need the same ``orglife-nb`` installed and must reach the database (a PostgreSQL URL, or an SQLite file
on a path they all see).
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Iterator

from distributed.diagnostics.plugin import WorkerPlugin

from ..errors import OrglifeError

PLUGIN_NAME = "orglife-warm-kernels"


class WarmKernels(WorkerPlugin):
    """Closes the worker's warm kernels when the worker shuts down (the kernels start on first use)."""

    name = PLUGIN_NAME

    def __init__(self, close: Callable[[], None]) -> None:
        self.close = close  # runner.close_worker_engines: given, not imported (runner imports this module)

    def teardown(self, worker) -> None:
        self.close()


def run_chunk(render: Callable[[list], Iterator], jobs: list) -> list:
    """On a worker: render the chunk on this thread's warm engine (``runner.render_chunk``: its branches loaded and
    checked once)."""
    return list(render(jobs))


def connect(scheduler):
    """A client for a scheduler address (``tcp://host:8786``), a cluster object or an existing client."""
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout="30s"), True
    except (OSError, TimeoutError) as error:
        raise OrglifeError(f"无法连接 Dask 调度器 {scheduler}：{error}") from None


def run_on_cluster(jobs: list, scheduler, *, split: Callable[[list, int], list[list]],
                   render: Callable[[list], Iterator], close: Callable[[], None]) -> Iterator:
    """Rendered results as chunks finish; a chunk lost with its worker is recorded as failed, not raised.

    ``split`` (jobs, threads → chunks), ``render`` (a chunk on a worker) and ``close`` (the worker's kernels) are
    the runner's own functions: this module does not import the runner, which starts it."""
    from distributed import as_completed

    if not jobs:
        return
    client, owned = connect(scheduler)
    futures = []
    try:
        client.register_plugin(WarmKernels(close), name=PLUGIN_NAME)
        threads = sum(client.nthreads().values()) or 1
        parts = split(jobs, threads)  # the same split as a local run
        futures = client.map(partial(run_chunk, render), parts, pure=False)
        chunk_of = {future.key: part for future, part in zip(futures, parts)}
        for future in as_completed(futures):
            part = chunk_of.pop(future.key)
            try:
                results = future.result()
            except Exception as error:  # noqa: BLE001 - e.g. KilledWorker: the rest of the batch goes on
                results = [job.failed(f"Dask 任务失败：{type(error).__name__}: {error}") for job in part]
            future.release()  # the text is ours now; free the worker's copy
            yield from results
    finally:
        if futures:
            client.cancel(futures)  # an interrupted run leaves no work queued on the cluster
        if owned:
            client.close()
