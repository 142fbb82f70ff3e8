"""The model registry: named models, where they come from, and SHA-256 pinning.

No weights live in this repository. The MediaPipe selfie segmentation models ship inside
the `mediapipe` 0.10.21 wheel (the last release that carries them). `pull_models`
downloads that one wheel with the user's own pip (so their index, proxy and mirror
settings apply), without dependencies, extracts the .tflite files into the user cache and
verifies each against its pinned SHA-256. The model files are identical in every
platform's wheel, so one fixed wheel is asked for whatever the local Python.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

WHEEL_REQUIREMENT = "mediapipe==0.10.21"
WHEEL_PLATFORM = "manylinux_2_28_x86_64"
WHEEL_PYTHON = "3.11"
WHEEL_FOLDER = "mediapipe/modules/selfie_segmentation/"


@dataclass(frozen=True)
class RegisteredModel:
    """A named model: its file inside the wheel and the hash it must have."""

    name: str
    filename: str
    sha256: str
    size_bytes: int
    description: str


REGISTRY: dict[str, RegisteredModel] = {
    m.name: m
    for m in (
        RegisteredModel(
            "selfie",
            "selfie_segmentation.tflite",
            "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
            249_505,
            "MediaPipe selfie segmentation, general model, 256x256 input",
        ),
        RegisteredModel(
            "selfie-landscape",
            "selfie_segmentation_landscape.tflite",
            "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
            250_145,
            "MediaPipe selfie segmentation, landscape model, 144x256 input",
        ),
    )
}


@dataclass(frozen=True)
class ModelFile:
    """A model file ready to load: where it is and what it is."""

    name: str
    path: Path
    sha256: str
    size_bytes: int


def cache_dir() -> Path:
    """Where pulled models live: $XDG_CACHE_HOME/fairness-eval/models (~/.cache by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fairness-eval" / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_path(model: RegisteredModel) -> Path:
    return cache_dir() / model.filename


def cache_state(model: RegisteredModel) -> str:
    """'cached' (present and passing its SHA-256 check), 'not pulled', or 'corrupt'."""
    path = cached_path(model)
    if not path.exists():
        return "not pulled"
    try:
        return "cached" if sha256_of(path) == model.sha256 else "corrupt"
    except OSError:
        return "corrupt"


def resolve_model(name_or_path: str, pull: bool = True,
                  log: Callable[[str], None] = lambda _: None) -> ModelFile:
    """A registered name (pulled on first use) or a path to a .tflite or .onnx file."""
    if name_or_path in REGISTRY:
        model = REGISTRY[name_or_path]
        path = cached_path(model)
        if not path.exists():
            if not pull:
                raise UsageError(f"--model {name_or_path}: not in {cache_dir()}; run "
                                 "`fairness-eval models pull`")
            log(f"model '{model.name}' is not cached yet: pulling it from the "
                f"{WHEEL_REQUIREMENT} wheel into {cache_dir()}")
            pull_models([model.name], log=log)
        return _verified(model, path)
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(REGISTRY)
        raise UsageError(f"--model {name_or_path}: neither a registered model ({known}) "
                         "nor an existing .tflite or .onnx file")
    return ModelFile(path.name, path, sha256_of(path), path.stat().st_size)


def _verified(model: RegisteredModel, path: Path) -> ModelFile:
    digest = sha256_of(path)
    if digest != model.sha256:
        raise UsageError(
            f"model file {path} fails its SHA-256 check (expected {model.sha256}, got "
            f"{digest}); delete it and run `fairness-eval models pull`"
        )
    return ModelFile(model.name, path, digest, path.stat().st_size)


def pull_models(names: list[str] | None = None, wheel: Path | None = None,
                log: Callable[[str], None] = lambda _: None) -> list[ModelFile]:
    """Fetch the named models (default: all) into the cache, verifying their hashes.

    `wheel` points at an already downloaded mediapipe 0.10.21 wheel (offline machines).
    A model already cached whose SHA-256 verifies is kept (and said so): nothing is
    downloaded when every model asked for is.
    """
    asked = [REGISTRY[n] for n in (names or list(REGISTRY))]
    wanted = []
    for model in asked:
        if cache_state(model) == "cached":
            log(f"{model.name}: already cached, SHA-256 verified ({cached_path(model)})")
        else:
            wanted.append(model)
    if not wanted:
        return [_verified(m, cached_path(m)) for m in asked]
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fairness-eval-pull-") as tmp:
        wheel_path = Path(wheel) if wheel else _download_wheel(Path(tmp), log)
        try:
            archive = zipfile.ZipFile(wheel_path)
        except (OSError, zipfile.BadZipFile) as error:
            raise UsageError(f"{wheel_path}: not a readable wheel ({error})") from None
        with archive:
            for model in wanted:
                member = WHEEL_FOLDER + model.filename
                try:
                    data = archive.read(member)
                except KeyError:
                    raise UsageError(f"{wheel_path}: has no {member}") from None
                digest = hashlib.sha256(data).hexdigest()
                if digest != model.sha256:
                    raise UsageError(f"{wheel_path}: {member} has SHA-256 {digest}, expected "
                                     f"{model.sha256}; refusing it")
                # One partial file per process: two pulls at once (parallel test workers,
                # two CI jobs on one cache) each rename a whole file into place.
                partial = target / f"{model.filename}.{os.getpid()}.partial"
                partial.write_bytes(data)
                os.replace(partial, cached_path(model))
                log(f"pulled {model.name}: {cached_path(model)} ({len(data):,} bytes, "
                    f"sha256 {digest[:12]}...)")
    return [_verified(m, cached_path(m)) for m in asked]


def _download_wheel(folder: Path, log: Callable[[str], None]) -> Path:
    pip = [sys.executable, "-m", "pip"]
    if shutil.which(sys.executable) is None:
        raise UsageError("cannot find the Python interpreter to run pip")
    command = pip + [
        "download", "--no-deps", "--only-binary=:all:", "--python-version", WHEEL_PYTHON,
        "--platform", WHEEL_PLATFORM, "--dest", str(folder), "--quiet", WHEEL_REQUIREMENT,
    ]
    log(f"downloading {WHEEL_REQUIREMENT} ({WHEEL_PLATFORM} wheel, ~36 MB) with pip")
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(folder.glob("mediapipe-*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(
            f"could not download {WHEEL_REQUIREMENT} with pip ({last}); download the wheel "
            "elsewhere and run `fairness-eval models pull --wheel FILE`"
        )
    return wheels[0]
