"""Model registry, cache location and SHA-256 pinning."""

import zipfile

import pytest

from fairness_eval.errors import UsageError
from fairness_eval.models import registry as models


def test_cache_honours_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert models.cache_dir() == tmp_path / "fairness-eval" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert models.cache_dir().parts[-3:] == (".cache", "fairness-eval", "models")


def test_registry_pins_the_published_hash():
    assert models.REGISTRY["selfie"].sha256 == (
        "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c")
    assert models.REGISTRY["selfie"].size_bytes == 249_505


def test_a_cached_file_failing_its_hash_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = models.cached_path(models.REGISTRY["selfie"])
    path.parent.mkdir(parents=True)
    path.write_bytes(b"tampered")
    with pytest.raises(UsageError, match="fails its SHA-256 check"):
        models.resolve_model("selfie", pull=False)


def test_pull_from_a_wheel_verifies_and_refuses_a_wrong_file(monkeypatch, tmp_path, model_file):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    good = tmp_path / "good.whl"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr(models.WHEEL_FOLDER + "selfie_segmentation.tflite",
                         model_file.path.read_bytes())
    pulled = models.pull_models(["selfie"], wheel=good)
    assert pulled[0].sha256 == models.REGISTRY["selfie"].sha256
    assert models.resolve_model("selfie", pull=False).path == pulled[0].path
    bad = tmp_path / "bad.whl"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr(models.WHEEL_FOLDER + "selfie_segmentation.tflite", b"other bytes")
    pulled[0].path.unlink()  # a verified cached file is kept without reading the wheel
    with pytest.raises(UsageError, match="refusing it"):
        models.pull_models(["selfie"], wheel=bad)


def test_unknown_name_and_missing_path(tmp_path):
    with pytest.raises(UsageError, match="neither a registered model"):
        models.resolve_model(str(tmp_path / "nope.tflite"))
    path = tmp_path / "mine.tflite"
    path.write_bytes(b"abc")
    found = models.resolve_model(str(path))
    assert found.name == "mine.tflite" and found.size_bytes == 3
