"""`run --executor dask`: the same per_image.csv and results.json as `--executor local`.

A 2-worker LocalCluster on loopback, started here, stands for an existing cluster; the
real CLI joins it with `--scheduler tcp://127.0.0.1:PORT` over 40 VOC images (by path).
Also: one Dask worker killed mid-run (Dask re-runs its tasks), the client killed with
SIGKILL mid-run and `--resume`d, and the one-line refusals (no extra, no scheduler).
"""

from __future__ import annotations

import csv
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import run_helpers
from run_helpers import processes, stored_rows

from fairness_eval.config.settings import Settings
from fairness_eval.errors import UsageError

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed not installed (pip install 'fairness-eval[dask]')")

CLI = [sys.executable, "-c",
       "import sys; sys.argv[0] = 'fairness-eval'; from fairness_eval.cli import main; main()"]
IMAGES = 40
OPTIONS = ["--attribute", "bourdev_subcategory", "--min-group-size", "5", "--bootstrap", "500",
           "--seed", "7", "--format", "", "--workers", "2"]
# How and where a run went, not what it found.
CIRCUMSTANCES = ("command", "started", "finished", "versions")
SETTINGS_CIRCUMSTANCES = ("out", "resume", "overwrite", "workers", "executor", "scheduler")


def fairness_eval(*arguments: object) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, arguments)], capture_output=True, text=True,
                          timeout=300)


def comparable(run_dir: Path) -> dict:
    return run_helpers.comparable(run_dir, CIRCUMSTANCES, SETTINGS_CIRCUMSTANCES,
                                  missing_ok=True)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, voc_dataset: Path) -> Path:
    """The first 40 VOC images with their masks, ignore masks and subcategory."""
    path = tmp_path_factory.mktemp("dask") / "voc40.csv"
    with open(voc_dataset / "attributes.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))[:IMAGES]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "mask", "ignore", "bourdev_subcategory"])
        for row in rows:
            stem = row["image"]
            writer.writerow([voc_dataset / "images" / f"{stem}.jpg",
                             voc_dataset / "masks" / f"{stem}.png",
                             voc_dataset / "ignore" / f"{stem}.png", row["bourdev_subcategory"]])
    return path


@pytest.fixture(scope="module")
def cluster():
    """A 2-worker, 1-thread-each cluster on loopback, and a client to watch it."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=40) as local, \
            distributed.Client(local, set_as_default=False) as client:
        yield local.scheduler_address, client


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, manifest: Path, model_file) -> Path:
    out = tmp_path_factory.mktemp("dask") / "local"
    done = fairness_eval("run", "--dataset", manifest, "--out", out, *OPTIONS)
    assert done.returncode == 0, done.stderr
    return out


def assert_same_results(run_dir: Path, reference: Path) -> None:
    assert (run_dir / "per_image.csv").read_bytes() == (reference / "per_image.csv").read_bytes()
    assert comparable(run_dir) == comparable(reference)


def test_dask_cluster_gives_the_local_results(cluster, manifest, local_run, tmp_path):
    address, _ = cluster
    out = tmp_path / "dask"
    done = fairness_eval("run", "--dataset", manifest, "--out", out, *OPTIONS,
                         "--executor", "dask", "--scheduler", address)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert f"dask: 2 worker(s), 2 thread(s), {address}" in done.stderr
    assert_same_results(out, local_run)
    recorded = json.loads((out / "results.json").read_text())["settings"]
    assert (recorded["executor"], recorded["scheduler"]) == ("dask", address)
    # The local run records neither: its settings read as before executors existed.
    assert "executor" not in json.loads((local_run / "results.json").read_text())["settings"]


def test_a_dask_worker_killed_mid_run_changes_nothing(cluster, manifest, local_run, tmp_path):
    address, client = cluster
    client.wait_for_workers(2, timeout=60)
    before = client.run(os.getpid)  # worker address -> process id
    out = tmp_path / "dask-kill"
    process = subprocess.Popen(
        [*CLI, "run", "--dataset", str(manifest), "--out", str(out), *OPTIONS,
         "--executor", "dask", "--scheduler", address],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and stored_rows(out) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    victim = sorted(before.values())[0]
    still_running = process.poll() is None
    os.kill(victim, signal.SIGKILL)
    _, stderr = process.communicate(timeout=300)
    assert still_running, "the run ended before a worker could be killed"
    assert process.returncode == 0, stderr
    assert_same_results(out, local_run)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert victim not in client.run(os.getpid).values()


def test_client_killed_then_resumed_on_dask(cluster, manifest, local_run, tmp_path):
    address, client = cluster
    client.wait_for_workers(2, timeout=60)
    out = tmp_path / "dask-resume"
    dask = ["--executor", "dask", "--scheduler", address]
    process = subprocess.Popen(
        [*CLI, "run", "--dataset", str(manifest), "--out", str(out), *OPTIONS, *dask],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if 0 < stored_rows(out) < IMAGES:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    kept = stored_rows(out)
    assert 0 < kept < IMAGES
    resumed = fairness_eval("run", "--dataset", manifest, "--out", out, "--resume", *OPTIONS,
                            *dask)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {kept} of {IMAGES} rows already evaluated" in resumed.stderr
    assert_same_results(out, local_run)


def test_a_local_cluster_is_started_and_closed_without_scheduler(manifest, local_run, tmp_path):
    out = tmp_path / "dask-local-cluster"
    done = fairness_eval("run", "--dataset", manifest, "--out", out, *OPTIONS,
                         "--executor", "dask")
    assert done.returncode == 0, done.stderr
    assert "dask: 2 worker(s), 2 thread(s), a local cluster at tcp://127.0.0.1:" in done.stderr
    assert_same_results(out, local_run)


def test_unreachable_scheduler_is_one_line_exit_2(manifest, tmp_path, model_file):
    started = time.monotonic()
    done = fairness_eval("run", "--dataset", manifest, "--out", tmp_path / "x", *OPTIONS,
                         "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("fairness-eval:")]
    assert errors == [errors[0]] and "--scheduler tcp://127.0.0.1:9: cannot connect" in errors[0]
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 60


def running_in_group(group: int) -> list[int]:
    """Processes of process group `group` that have not ended, from /proc."""
    return [pid for pid, state, _, pgrp in processes()
            if pgrp == group and state not in ("Z", "X")]


@pytest.mark.slow
def test_ctrl_c_stops_a_run_and_the_local_cluster_it_started(voc_dataset, tmp_path,
                                                             model_file):
    out, log = tmp_path / "run", tmp_path / "stderr.txt"
    process = subprocess.Popen(
        [*CLI, "run", "--dataset", str(voc_dataset), "--out", str(out), *OPTIONS,
         "--executor", "dask"],
        stdout=subprocess.DEVNULL, stderr=log.open("w"), start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while process.poll() is None and stored_rows(out) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert len(running_in_group(process.pid)) >= 3  # the client and two Dask workers
        os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches every process
        started = time.monotonic()
        process.wait(timeout=60)
        took = time.monotonic() - started
        left = running_in_group(process.pid)
        for _ in range(50):
            if not left:
                break
            time.sleep(0.1)
            left = running_in_group(process.pid)
    finally:
        if running_in_group(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
    stderr = log.read_text()
    assert process.returncode == 130, stderr
    assert took < 10 and not left
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stderr.strip().splitlines()[-1] == "fairness-eval: stopped by SIGINT (Ctrl-C)"
    assert 0 < stored_rows(out) < 300


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (its name)
        pass


@pytest.fixture(scope="module")
def not_schedulers():
    """Two servers that are not Dask schedulers: an HTTP server (it answers Dask's handshake
    with a 400 page) and a listener that accepts connections and never says a word."""
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    silent = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def hold() -> None:
        while True:
            try:
                accepted.append(silent.accept()[0])
            except OSError:  # closed at the end
                return

    threading.Thread(target=hold, daemon=True).start()
    yield {"http": f"tcp://127.0.0.1:{web.server_address[1]}",
           "silent": f"tcp://127.0.0.1:{silent.getsockname()[1]}"}
    web.shutdown()
    web.server_close()
    silent.close()
    for connection in accepted:
        connection.close()


def run_against(manifest: Path, out: Path, scheduler: str) -> tuple[subprocess.CompletedProcess,
                                                                     float]:
    # No TLS settings from this machine's Dask configuration.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    started = time.monotonic()
    done = subprocess.run([*CLI, "run", "--dataset", str(manifest), "--out", str(out),
                           *OPTIONS, "--executor", "dask", "--scheduler", scheduler],
                          capture_output=True, text=True, timeout=300, env=environment)
    return done, time.monotonic() - started


def assert_one_line_exit_2(done: subprocess.CompletedProcess, out: Path) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines()
             if line.strip() and not line.startswith("INFO: Created TensorFlow Lite")]
    assert len(lines) == 1, done.stderr  # nothing from Dask's loggers, before or after
    assert not out.exists()  # refused before anything was written
    return lines[0]


@pytest.fixture(scope="module")
def refused_at_once(manifest, tmp_path_factory, model_file) -> float:
    """Seconds a run takes to be refused where it would connect, without connecting: the
    part of the timings below that is start-up, dataset and model, not the scheduler."""
    out = tmp_path_factory.mktemp("dask") / "tls"
    done, took = run_against(manifest, out, "tls://127.0.0.1:8786")
    assert assert_one_line_exit_2(done, out) == (
        "fairness-eval: error: --scheduler tls://127.0.0.1:8786: tls:// needs Dask's TLS "
        "settings: a CA file, a client certificate and key (distributed.comm.tls.ca-file, "
        ".client.cert, .client.key; e.g. DASK_DISTRIBUTED__COMM__TLS__CA_FILE)")
    return took


@pytest.mark.slow
@pytest.mark.parametrize("server", ["http", "silent"])
def test_a_server_that_is_not_a_scheduler_is_refused_within_the_timeout(
        manifest, tmp_path, not_schedulers, refused_at_once, server):
    from fairness_eval.evaluation.dask_executor import CONNECT_TIMEOUT_S

    address = not_schedulers[server]
    out = tmp_path / "x"
    done, took = run_against(manifest, out, address)
    assert assert_one_line_exit_2(done, out) == (
        f"fairness-eval: error: --scheduler {address}: no Dask scheduler answered within "
        f"{CONNECT_TIMEOUT_S} s (is it the address of a Dask scheduler?)")
    assert took - refused_at_once < CONNECT_TIMEOUT_S + 2


@pytest.mark.slow
def test_a_scheme_this_dask_cannot_speak_is_a_usage_error(manifest, tmp_path, refused_at_once):
    out = tmp_path / "x"
    done, _ = run_against(manifest, out, "ucx://127.0.0.1:8786")
    line = assert_one_line_exit_2(done, out)
    assert line.startswith("fairness-eval: error: --scheduler ucx://127.0.0.1:8786: this "
                           "installation of Dask cannot connect over ucx:// (")


@pytest.mark.slow
def test_a_dask_worker_is_not_taken_for_the_scheduler(cluster, manifest, tmp_path):
    _, client = cluster
    client.wait_for_workers(2, timeout=60)
    worker = sorted(client.scheduler_info()["workers"])[0]
    out = tmp_path / "x"
    done, _ = run_against(manifest, out, worker)
    assert assert_one_line_exit_2(done, out) == (
        f"fairness-eval: error: --scheduler {worker}: not a Dask scheduler (it answered as a "
        "Dask Worker)")


def test_missing_extra_is_one_line_exit_2(manifest, tmp_path, model_file):
    # distributed made unimportable in the child, as where the extra is not installed
    hide = ("import sys; sys.modules['distributed'] = None; sys.argv[0] = 'fairness-eval'; "
            "from fairness_eval.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", hide, "run", "--dataset", str(manifest),
                           "--out", str(tmp_path / "x"), *OPTIONS, "--executor", "dask"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "fairness-eval: error: --executor dask: dask.distributed is not installed; "
        "pip install 'fairness-eval[dask]'")


def test_core_commands_do_not_import_dask():
    probe = ("import sys, fairness_eval.cli, fairness_eval.workflow, "
             "fairness_eval.workflow.run, fairness_eval.evaluation.image_rows; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("values", "message"), [
    ({"executor": "ray"}, "--executor: 'ray' is not one of local, dask"),
    ({"executor": "dask", "scheduler": "10.0.0.5"},
     "--scheduler: '10.0.0.5' is not a Dask scheduler address such as tcp://HOST:8786"),
    ({"scheduler": "tcp://127.0.0.1:8786"},
     "--scheduler tcp://127.0.0.1:8786: needs --executor dask"),
])
def test_executor_settings_are_checked(values, message):
    with pytest.raises(UsageError) as refused:
        Settings(**values)
    assert str(refused.value) == message


def test_executor_and_scheduler_from_the_configuration_file(tmp_path):
    from fairness_eval.config.files import parse_config
    from fairness_eval.config.merge import merge_run_settings

    config = parse_config({"executor": "dask", "scheduler": "tcp://10.0.0.5:8786"},
                          tmp_path / "fairness-eval.toml")
    settings = merge_run_settings(config, {})
    assert (settings.executor, settings.scheduler) == ("dask", "tcp://10.0.0.5:8786")
    assert merge_run_settings(config, {"scheduler": "tcp://127.0.0.1:9"}).scheduler == \
        "tcp://127.0.0.1:9"
    with pytest.raises(UsageError, match="key 'executor': 'ray' is not one of local, dask"):
        parse_config({"executor": "ray"}, tmp_path / "fairness-eval.toml")

