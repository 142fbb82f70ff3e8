"""Defaults a newcomer meets in the first hour: `validate` reads fairness-eval.toml as `run`
does; a VOC image set uses the attribute rows of its own images and leaves the devkit's
others aside; a bad option or dataset exits 2 before the model loads; `--examples` on a
dataset without groups says why it adds nothing; `models pull` keeps a verified file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from format_helpers import VOC, build_voc

from fairness_eval.data.formats import load_layout
from fairness_eval.errors import UsageError

EXE = Path(sys.executable).with_name("fairness-eval")
LITERT_INFO = "INFO: Created TensorFlow Lite"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


# --------------------------------------------------------------------------- validate


def test_validate_reads_the_dataset_and_attributes_of_the_config_file(tmp_path):
    (tmp_path / "fairness-eval.toml").write_text(
        f'dataset = "{VOC}"\nattribute = ["bourdev_subcategory"]\nmax-pixels = 100000\n')
    done = cli("validate", cwd=tmp_path)
    # max-pixels from the file: VOC's ~500x375 images are over 100,000 pixels
    assert done.returncode == 2, done.stderr
    assert f"{VOC}: 300 rows, 5 valid, 295 with problems" in done.stdout
    assert "Missing option" not in done.stderr
    done = cli("validate", "--max-pixels", "1000000", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{VOC}: 300 rows, 300 valid, 0 with problems" in done.stdout
    assert "\nbourdev_subcategory\n" in done.stdout
    assert "\nbourdev_persons_read\n" not in done.stdout  # the file's attribute list


def test_validate_without_a_dataset_names_both_ways_to_give_it(tmp_path):
    done = cli("validate", cwd=tmp_path)
    assert done.returncode == 2
    assert "--dataset: missing (give --dataset PATH or `dataset` in fairness-eval.toml)" in (
        done.stderr)


# --------------------------------------------------------------------------- VOC image sets


@pytest.fixture
def devkit_with_attributes(tmp_path):
    stems = sorted(p.stem for p in (VOC / "labels").glob("*.png"))[:12]
    root = build_voc(tmp_path / "VOC2012", stems)
    (root / "ImageSets/Segmentation/val.txt").write_text("\n".join(stems[:5]) + "\n")
    rows = [f"{stem},{'adult' if i % 2 else 'child'}" for i, stem in enumerate(stems)]
    (root / "attributes.csv").write_text("image,age\n" + "\n".join(rows) + "\n")
    return root, stems


def test_an_image_set_uses_its_images_attribute_rows_and_notes_the_others(
        devkit_with_attributes):
    root, stems = devkit_with_attributes
    dataset = load_layout(root, image_set="val")
    assert [s.image_id for s in dataset.samples] == stems[:5]
    assert [s.attributes["age"] for s in dataset.samples] == [
        "child", "adult", "child", "adult", "child"]
    assert dataset.problems == []
    assert ("attributes.csv: 7 row(s) of images not in ImageSets/Segmentation/val.txt left "
            "aside (only the set's images are evaluated)") in dataset.notes


def test_an_attribute_row_of_no_devkit_image_is_still_refused(devkit_with_attributes):
    root, _ = devkit_with_attributes
    with (root / "attributes.csv").open("a") as table:
        table.write("2099_999999,adult\n")
    with pytest.raises(UsageError, match="1 problem"):
        load_layout(root, image_set="val")


def test_validate_of_an_image_set_exits_0_with_the_note(devkit_with_attributes):
    root, _ = devkit_with_attributes
    done = cli("validate", "--dataset", str(root), "--image-set", "val")
    assert done.returncode == 0, done.stderr
    assert "5 rows, 5 valid, 0 with problems" in done.stdout
    assert "note: attributes.csv: 7 row(s) of images not in" in done.stdout


# --------------------------------------------------------------------------- before the model


@pytest.mark.parametrize("args, reason", [
    (["--bootstrap", "5"], "--bootstrap"),
    (["--limit", "0"], "--limit"),
    (["--attribute", "no_such_column"], "no_such_column"),
])
def test_a_bad_option_exits_2_before_the_model_loads(args, reason, tmp_path):
    done = cli("run", "--dataset", str(VOC), "--out", str(tmp_path / "run"), "--workers", "1",
               "--format", "", *args)
    assert done.returncode == 2, done.stderr
    assert reason in done.stderr
    assert LITERT_INFO not in done.stderr
    assert not (tmp_path / "run").exists()


def test_a_refused_out_folder_exits_2_before_the_model_loads(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    for out, reason in ((tmp_path / "full", "is not empty; pass --overwrite"),
                        (VOC / "images", "is inside the dataset folder")):
        done = cli("run", "--dataset", str(VOC), "--out", str(out), "--workers", "1",
                   "--format", "")
        assert done.returncode == 2 and reason in done.stderr, done.stderr
        assert LITERT_INFO not in done.stderr
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"


def test_a_missing_dataset_exits_2_before_the_model_loads(tmp_path):
    done = cli("run", "--dataset", str(tmp_path / "nowhere"), "--format", "")
    assert done.returncode == 2
    assert "nowhere" in done.stderr and LITERT_INFO not in done.stderr


def test_a_bad_dataset_never_opens_the_model(tmp_path, monkeypatch):
    from fairness_eval.config.settings import Settings
    from fairness_eval.evaluation import predictor
    from fairness_eval.workflow.run import run_evaluation

    def refuse(*_args, **_kwargs):
        raise AssertionError("the model was opened")

    monkeypatch.setattr(predictor, "prepare_predictor", refuse)
    root = tmp_path / "data"
    shutil.copytree(VOC, root, ignore=shutil.ignore_patterns("masks"))
    (root / "masks").mkdir()
    with pytest.raises(UsageError):
        run_evaluation(root, Settings(formats=(), workers=1, out=tmp_path / "run"))


# --------------------------------------------------------------------------- models pull


def test_pull_keeps_a_verified_cached_model_and_replaces_a_corrupt_one(monkeypatch, tmp_path,
                                                                        model_file):
    import zipfile

    from fairness_eval.models import registry

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    selfie = registry.REGISTRY["selfie"]
    path = registry.cached_path(selfie)
    path.parent.mkdir(parents=True)
    path.write_bytes(model_file.path.read_bytes())
    before = path.stat().st_mtime_ns
    lines: list[str] = []
    # the wheel is never opened (nor downloaded): the cached file verifies
    pulled = registry.pull_models(["selfie"], wheel=tmp_path / "absent.whl", log=lines.append)
    assert pulled[0].sha256 == selfie.sha256 and path.stat().st_mtime_ns == before
    assert lines == [f"selfie: already cached, SHA-256 verified ({path})"]
    path.write_bytes(b"tampered")
    wheel = tmp_path / "good.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(registry.WHEEL_FOLDER + selfie.filename, model_file.path.read_bytes())
    lines.clear()
    registry.pull_models(["selfie"], wheel=wheel, log=lines.append)
    assert registry.sha256_of(path) == selfie.sha256
    assert lines[0].startswith("pulled selfie: ")


# --------------------------------------------------------------------------- --examples


def test_examples_on_a_dataset_without_groups_says_why_it_adds_nothing(tmp_path):
    from fairness_eval.config.settings import Settings
    from fairness_eval.workflow.run import run_evaluation

    root = tmp_path / "plain"
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    for stem in sorted(p.stem for p in (VOC / "masks").glob("*.png"))[:4]:
        shutil.copy(VOC / "images" / f"{stem}.jpg", root / "images")
        shutil.copy(VOC / "masks" / f"{stem}.png", root / "masks")
    lines: list[str] = []
    settings = Settings(predictions=root / "masks", examples=2, save_masks=True, formats=(),
                        bootstrap=100, workers=1, out=tmp_path / "run")
    outcome = run_evaluation(root, settings, log=lines.append)
    outcome.lock.release()
    notes = [line for line in lines if line.startswith("note: --examples 2 adds nothing")]
    assert len(notes) == 1 and "has no attribute to group by" in notes[0]
    lines.clear()
    (root / "attributes.csv").write_text(
        "image,age\n" + "".join(f"{p.stem},adult\n" for p in (root / "images").iterdir()))
    outcome = run_evaluation(root, Settings(**{**settings.__dict__, "overwrite": True}),
                             log=lines.append)
    outcome.lock.release()
    assert not any("--examples" in line for line in lines)


# --------------------------------------------------------------------------- run folders


def test_the_default_run_folder_names_dataset_and_model(tmp_path, monkeypatch):
    from datetime import datetime, timezone

    from fairness_eval.config.settings import Settings
    from fairness_eval.evaluation.run_dir import default_run_dir
    from fairness_eval.workflow.run import run_evaluation

    now = datetime(2026, 12, 6, 11, 0, 5, tzinfo=timezone.utc)
    assert default_run_dir("voc", now, "selfie") == Path("reports/voc-selfie-20261206T110005Z")
    assert default_run_dir("voc", now, "my model/v2") == Path(
        "reports/voc-my_model_v2-20261206T110005Z")
    assert default_run_dir("voc", now) == Path("reports/voc-20261206T110005Z")
    root = tmp_path / "plain"
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    for stem in sorted(p.stem for p in (VOC / "masks").glob("*.png"))[:3]:
        shutil.copy(VOC / "images" / f"{stem}.jpg", root / "images")
        shutil.copy(VOC / "masks" / f"{stem}.png", root / "masks")
    monkeypatch.chdir(tmp_path)
    outcome = run_evaluation(root, Settings(predictions=root / "masks", formats=(),
                                            bootstrap=100, workers=1))
    outcome.lock.release()
    assert outcome.run_dir.parent == Path("reports")
    assert outcome.run_dir.name.startswith("plain-predictions-2")
    assert (tmp_path / outcome.run_dir / "results.json").is_file()
    # an explicit --out is used exactly as given
    outcome = run_evaluation(root, Settings(predictions=root / "masks", formats=(),
                                            bootstrap=100, workers=1, out=Path("mine")))
    outcome.lock.release()
    assert outcome.run_dir == Path("mine") and (tmp_path / "mine" / "results.json").is_file()


# --------------------------------------------------------------------------- attributes


def test_default_attributes_are_the_vocabularies_and_the_configured(tmp_path):
    from fairness_eval.data.dataset import load_dataset

    root = tmp_path / "mixed"
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    stems = sorted(p.stem for p in (VOC / "masks").glob("*.png"))[:3]
    for stem in stems:
        shutil.copy(VOC / "images" / f"{stem}.jpg", root / "images")
        shutil.copy(VOC / "masks" / f"{stem}.png", root / "masks")
    (root / "attributes.csv").write_text(
        "image,site,region,camera\n" + "".join(f"{s},a,Europe,c{i}\n"
                                                for i, s in enumerate(stems)))
    dataset = load_dataset(root)
    assert dataset.attributes == ["region"]
    assert ("not evaluated by default (no standard vocabulary): site, camera; add one with "
            "--attribute NAME (with the others wanted) or an [attributes.NAME] table in "
            "fairness-eval.toml") in dataset.notes
    assert load_dataset(root, configured=("camera",)).attributes == ["region", "camera"]
    assert load_dataset(root, ("site",)).attributes == ["site"]
    # a dataset without a standard column: every categorical column, as before
    (root / "attributes.csv").write_text(
        "image,site\n" + "".join(f"{s},a\n" for s in stems))
    assert load_dataset(root).attributes == ["site"]
    # validate takes the configuration's [attributes.NAME] tables as run does
    (tmp_path / "fairness-eval.toml").write_text(
        f'dataset = "{root}"\n[attributes.camera]\nmin-group-size = 1\n')
    (root / "attributes.csv").write_text(
        "image,site,region,camera\n" + "".join(f"{s},a,Europe,c{i}\n"
                                                for i, s in enumerate(stems)))
    done = cli("validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\nregion\n" in done.stdout and "\ncamera\n" in done.stdout
    assert "\nsite\n" not in done.stdout
