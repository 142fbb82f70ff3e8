"""The Dask executor: tasks on a dask.distributed cluster, rows streamed back to the client.

Needs the `dask` extra (`pip install 'fairness-eval[dask]'`); only `--executor dask`
imports this module. With a scheduler address it joins that cluster; without one it
starts a LocalCluster of `workers` processes of one thread each, and closes it at the end.

A worker plugin loads the model once on every worker, also on a worker that joins or is
restarted later, and refuses a worker whose fairness-eval, LiteRT, OpenCV or numpy differ
from the client's (they can change a per-image number). A worker with several threads
keeps one interpreter per thread at work. The client keeps a bounded number of tasks in
flight and yields each task's rows as it completes, so the pipeline writes them to the
durable store as they arrive; a worker lost mid-run has its tasks re-run by Dask. Workers
read the dataset's files and the model file by the client's paths: on a cluster of several
machines those paths must be shared (the same mount everywhere).
"""

from __future__ import annotations

import hashlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice

import dask
import distributed

from ..errors import UsageError
from ..results.versions import versions
from .executors import Executor
from .memory import keep_freed_memory
from .tasks import Row, Task, WorkerContext, WorkerSetup

CONNECT_TIMEOUT_S = 5  # a scheduler that does not answer in this time is unreachable
TLS_SCHEMES = ("tls", "wss")  # schemes that need a certificate
TASKS_AHEAD = 4  # tasks in flight per worker thread: every thread busy, memory bounded
# The cluster a run starts has no dashboard: its workers need not sample their own stacks
# (the profiler) nor poll the system and event loop as often. Measured on 300 VOC images
# with 2 workers: each worker's event-loop thread used 1.04 s of CPU with Dask's defaults,
# 0.21 s with these (the task thread, 2.5 s).
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.tick.interval": "1s",
}
# Packages whose version can change a per-image number (the resume key's versions).
PER_IMAGE_PACKAGES = ("fairness_eval", "litert", "opencv", "numpy")


def per_image_versions() -> dict[str, str]:
    """This process's versions of PER_IMAGE_PACKAGES, as results.json records them."""
    found = versions()
    return {key: found[key] for key in PER_IMAGE_PACKAGES}


class _Contexts:
    """A worker's loaded interpreters: one per thread at work, made once, then reused."""

    def __init__(self, setup: WorkerSetup) -> None:
        self._setup = setup
        self._free = [WorkerContext(setup)]  # load one now: a bad model fails at setup
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self) -> Iterator[WorkerContext]:
        with self._lock:
            context = self._free.pop() if self._free else None
        if context is None:
            context = WorkerContext(self._setup)
        try:
            yield context
        finally:
            with self._lock:
                self._free.append(context)


class ModelPlugin(distributed.WorkerPlugin):
    """Loads the model on each worker once, after checking the worker's versions.

    `own_workers`: the workers are the run's own local cluster, children of the client in
    its process group: they ignore Ctrl-C, which the client handles for the whole run (a
    cluster's own workers keep theirs)."""

    def __init__(self, setup: WorkerSetup, versions: dict[str, str],
                 own_workers: bool = False) -> None:
        self.worker_setup = setup  # `setup` is the plugin hook's name
        self.versions = versions
        self.own_workers = own_workers
        self.name = plugin_name(setup)
        self.contexts: _Contexts | None = None

    def setup(self, worker: distributed.Worker) -> None:
        here = per_image_versions()
        differ = [f"{key} {here[key]} (client {version})"
                  for key, version in self.versions.items() if here.get(key) != version]
        if differ:
            raise RuntimeError(f"worker {worker.address} has {', '.join(differ)}: "
                               "per-image numbers could differ; install the client's versions")
        if self.own_workers and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        keep_freed_memory()
        self.contexts = _Contexts(self.worker_setup)

    def teardown(self, worker: distributed.Worker) -> None:
        self.contexts = None


def plugin_name(setup: WorkerSetup) -> str:
    """One plugin per model and settings, so runs sharing a cluster do not mix them."""
    return "fairness-eval-" + hashlib.sha256(repr(setup).encode()).hexdigest()[:16]


def _run_on_worker(name: str, task: Task) -> list[Row]:
    plugin = distributed.get_worker().plugins[name]
    with plugin.contexts.borrow() as context:
        return task.run(context)


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: the one at `scheduler`, else a LocalCluster it starts."""

    def __init__(self, setup: WorkerSetup, *, workers: int = 1, scheduler: str | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT_S,
                 log: Callable[[str], None] = lambda _: None) -> None:
        self._cluster: distributed.LocalCluster | None = None
        self._client: distributed.Client | None = None
        # A restarted worker is Dask's business, not a warning of the run's.
        quiet, self._logger = logging.ERROR, logging.getLogger("distributed")
        self._log_level = self._logger.level
        try:
            if scheduler is None:
                with dask.config.set(LOCAL_CLUSTER_CONFIG):  # nannies pass it to workers
                    # Its workers' own errors reach the run through their tasks' futures;
                    # what they log besides is shutdown noise: on Ctrl-C a worker that
                    # outlives the scheduler by a heartbeat logs a traceback at ERROR.
                    self._cluster = distributed.LocalCluster(
                        n_workers=max(1, workers), threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address=None,
                        silence_logs=logging.CRITICAL)
                address = self._cluster.scheduler_address
            else:
                self._logger.setLevel(quiet)
                address = scheduler
            self._client = _connect(address, scheduler, connect_timeout)
            self._plugin = ModelPlugin(setup, per_image_versions(),
                                       own_workers=self._cluster is not None)
            try:
                self._client.register_plugin(self._plugin, name=self._plugin.name)
            except Exception as error:  # noqa: BLE001 (any worker's failure, sent back)
                raise UsageError(f"--executor dask: a worker could not load the model: "
                                 f"{_first_line(error)}") from None
        except BaseException:
            self.close()
            raise
        threads = sum(self._client.nthreads().values())
        self.workers = max(1, threads)
        where = scheduler or f"a local cluster at {address}"
        log(f"dask: {len(self._client.nthreads())} worker(s), {threads} thread(s), {where}")

    def run(self, tasks: Iterable[Task]) -> Iterator[list[Row]]:
        client = self._client
        assert client is not None, "run() after close()"
        pending = iter(tasks)

        def submit(task: Task) -> distributed.Future:
            return client.submit(_run_on_worker, self._plugin.name, task, pure=False)

        running = {submit(task) for task in islice(pending, TASKS_AHEAD * self.workers)}
        completed = distributed.as_completed(list(running), loop=client.loop)
        try:
            for future in completed:
                running.discard(future)
                try:
                    rows = future.result()
                except distributed.KilledWorker as error:
                    raise RuntimeError(f"Dask workers died repeatedly running a task "
                                       f"({_first_line(error)}); rerun with --resume") from None
                future.release()
                for task in islice(pending, 1):
                    following = submit(task)
                    running.add(following)
                    completed.add(following)
                yield rows
        finally:
            if running:
                client.cancel(list(running))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        self._logger.setLevel(self._log_level)


def _connect(address: str, scheduler: str | None, timeout: float) -> distributed.Client:
    option = f"--scheduler {scheduler}" if scheduler else "--executor dask"
    security = None
    if scheduler is not None:
        security = _security(scheduler, option)
        _identify(scheduler, security, timeout, option)
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False,
                                  security=security)
    except (OSError, TimeoutError, ValueError) as error:
        raise UsageError(f"{option}: cannot connect to the Dask scheduler "
                         f"({_first_line(error)})") from None


def _security(scheduler: str, option: str) -> distributed.Security:
    """Dask's security settings for `scheduler`'s scheme (its configuration: files or
    DASK_* variables); refuses a scheme this installation cannot speak, and TLS without a
    client certificate and CA (Dask would fail later, with a traceback)."""
    from distributed.comm.registry import get_backend

    scheme = scheduler.partition("://")[0]
    try:
        get_backend(scheme).get_connector()
    except (ValueError, ImportError, TypeError) as error:  # TypeError: a stub backend
        raise UsageError(f"{option}: this installation of Dask cannot connect over "
                         f"{scheme}:// ({_first_line(error)})") from None
    security = distributed.Security()
    if scheme in TLS_SCHEMES:
        try:
            context = security.get_connection_args("client").get("ssl_context")
        except (OSError, ValueError) as error:  # a named certificate file that is not one
            raise UsageError(f"{option}: Dask's TLS settings cannot be used "
                             f"({_first_line(error)})") from None
        if context is None:
            raise UsageError(f"{option}: {scheme}:// needs Dask's TLS settings: a CA file, a "
                             "client certificate and key (distributed.comm.tls.ca-file, "
                             ".client.cert, .client.key; e.g. DASK_DISTRIBUTED__COMM__TLS__"
                             "CA_FILE)")
    return security


def _identify(scheduler: str, security: distributed.Security, timeout: float,
              option: str) -> None:
    """Ask `scheduler` who it is, the whole exchange within `timeout`: a server that is not
    a Dask scheduler (an HTTP server, a listener that never answers) would otherwise hold
    the client's handshake for minutes. Its own event loop in a thread of its own, so that
    a caller already running one (a notebook) can ask too."""
    import asyncio

    from distributed.comm import connect

    async def identity(left: float) -> object:
        comm = await connect(scheduler, timeout=left,
                             **security.get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    outcome: list[object] = []

    def ask(left: float) -> None:
        try:
            outcome.append(asyncio.run(asyncio.wait_for(identity(left), left)))
        except BaseException as error:  # noqa: BLE001 (judged below, in the caller's thread)
            outcome.append(error)

    deadline = time.monotonic() + timeout
    _reach(scheduler, deadline, timeout, option)
    left = max(0.1, deadline - time.monotonic())
    thread = threading.Thread(target=ask, args=(left,), name="fairness-eval-dask-identify",
                              daemon=True)
    thread.start()
    thread.join(left + 1)
    reply = outcome[0] if outcome else TimeoutError()
    if isinstance(reply, (TimeoutError, asyncio.TimeoutError)):
        raise UsageError(f"{option}: no Dask scheduler answered within {timeout:g} s (is it "
                         "the address of a Dask scheduler?)")
    if isinstance(reply, BaseException):
        # Whatever a peer that does not speak Dask's protocol makes it raise.
        raise UsageError(f"{option}: cannot connect to the Dask scheduler "
                         f"({_first_line(reply)})")
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        what = f"a Dask {kind}" if isinstance(kind, str) else "something else"
        raise UsageError(f"{option}: not a Dask scheduler (it answered as {what})")


def _reach(scheduler: str, deadline: float, timeout: float, option: str) -> None:
    """A TCP connection to `scheduler`'s host and port before the deadline, retried while
    refused (a scheduler may be starting), as Dask's own connect does; refused with one
    line if none is made. Schemes not over TCP are left to Dask."""
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(scheduler)
    if scheme not in ("tcp", "tls", "ws", "wss"):
        return
    host, port = parse_host_port(location.partition("/")[0])
    pause = 0.05
    while True:
        try:
            with socket.create_connection((host, port),
                                          timeout=max(0.1, deadline - time.monotonic())):
                return
        except OSError as error:
            if time.monotonic() + pause >= deadline or not isinstance(
                    error, ConnectionRefusedError):
                reason = ("refused" if isinstance(error, ConnectionRefusedError)
                          else _first_line(error))
                raise UsageError(f"{option}: cannot connect to the Dask scheduler "
                                 f"({reason}; tried for {timeout:g} s)") from None
        time.sleep(pause)
        pause = min(2 * pause, 0.5)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


__all__ = ["CONNECT_TIMEOUT_S", "DaskExecutor", "ModelPlugin", "per_image_versions",
           "plugin_name"]
