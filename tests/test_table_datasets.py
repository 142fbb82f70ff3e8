"""Datasets as tables (data/formats/tabular.py): 20 VOC images written to a Hugging Face
`datasets` folder (save_to_disk) and to Parquet give the folder layout's per-image counts
and content hashes; each bad row is a problem naming the table file, its row and the reason;
without the extra, one line naming it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairness_eval.data.dataset import load_dataset
from fairness_eval.errors import UsageError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
datasets = pytest.importorskip("datasets")

VOC = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "voc2012_person"
SUBSET = 20
ATTRIBUTE = "bourdev_subcategory"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def voc_tables(tmp_path_factory):
    """(folder layout, HF folder, Parquet folder, predictions) over the first 20 VOC images
    that a second annotator also drew (their masks serve as the supplied predictions)."""
    root = tmp_path_factory.mktemp("tables")
    stems = sorted(p.stem for p in (VOC / "masks_annotator2").glob("*.png"))[:SUBSET]
    folder = root / "folder"
    for name in ("images", "masks", "ignore"):
        (folder / name).mkdir(parents=True)
    images = {s: next((VOC / "images").glob(f"{s}.*")) for s in stems}
    for stem in stems:
        shutil.copy(images[stem], folder / "images" / images[stem].name)
        for name in ("masks", "ignore"):
            shutil.copy(VOC / name / f"{stem}.png", folder / name / f"{stem}.png")
    table = pd.read_csv(VOC / "attributes.csv", dtype=str)[["image", ATTRIBUTE]]
    table = table[table["image"].isin(stems)]
    table.to_csv(folder / "attributes.csv", index=False)
    values = dict(zip(table["image"], table[ATTRIBUTE], strict=True))

    # Hugging Face: Image features from the files (their names give the ids).
    hf = root / "hf"
    features = datasets.Features({"image": datasets.Image(), "mask": datasets.Image(),
                                  "ignore": datasets.Image(), ATTRIBUTE: datasets.Value("string")})
    datasets.Dataset.from_dict({
        "image": [str(images[s]) for s in stems],
        "mask": [str(VOC / "masks" / f"{s}.png") for s in stems],
        "ignore": [str(VOC / "ignore" / f"{s}.png") for s in stems],
        ATTRIBUTE: [values.get(s) for s in stems],
    }, features=features).save_to_disk(str(hf))

    # Parquet: raw bytes, ids in image_id, the masks as arrays, in two files.
    parquet = root / "parquet"
    parquet.mkdir()
    import cv2

    for part, chunk in enumerate((stems[:12], stems[12:])):
        pq.write_table(pa.table({
            "image_id": chunk,
            "picture": [images[s].read_bytes() for s in chunk],
            "truth": [cv2.imread(str(VOC / "masks" / f"{s}.png"), cv2.IMREAD_UNCHANGED).tolist()
                      for s in chunk],
            "ignore": [(VOC / "ignore" / f"{s}.png").read_bytes() for s in chunk],
            ATTRIBUTE: [values.get(s) for s in chunk],
        }), parquet / f"part-{part}.parquet")
    return folder, hf, parquet, VOC / "masks_annotator2"


def test_both_tables_load_the_folder_layouts_rows(voc_tables):
    folder, hf, parquet, _ = voc_tables
    expected = load_dataset(folder)
    for path, columns in ((hf, {}), (parquet, {"image_column": "picture",
                                               "mask_column": "truth"})):
        loaded = load_dataset(path, **columns)
        assert loaded.problems == []
        assert loaded.attribute_columns == [ATTRIBUTE]
        assert [s.image_id for s in loaded.samples] == [s.image_id for s in expected.samples]
        assert [s.attributes for s in loaded.samples] == [s.attributes for s in expected.samples]
        # The image and ignore bytes are kept as they are (the content hash reads them alike).
        for ours, theirs in zip(loaded.samples, expected.samples, strict=True):
            assert ours.image.read_bytes() == theirs.image.read_bytes()
            assert ours.ignore.read_bytes() == theirs.ignore.read_bytes()
        assert loaded.value_counts() == expected.value_counts()


@pytest.mark.slow
def test_the_per_image_counts_equal_the_folder_layouts(voc_tables, tmp_path):
    from fairness_eval.config.settings import Settings
    from fairness_eval.workflow.run import run_evaluation

    folder, hf, parquet, predictions = voc_tables
    tables = {}
    for name, path, columns in (("folder", folder, {}), ("hf", hf, {}),
                                ("parquet", parquet, {"image_column": "picture",
                                                      "mask_column": "truth"})):
        settings = Settings(out=tmp_path / name, predictions=predictions, workers=1,
                            formats=(), bootstrap=200, min_group_size=3)
        outcome = run_evaluation(path, settings, **columns)
        outcome.lock.release()
        tables[name] = pd.read_csv(tmp_path / name / "per_image.csv")
        recorded = json.loads((tmp_path / name / "results.json").read_text())["dataset"]
        assert recorded.get("table_columns") == (
            None if name == "folder" else {"image": columns.get("image_column", "image"),
                                           "mask": columns.get("mask_column", "mask")})
    counts = ["image", "intersection", "union", "iou", "gt_area", "pred_area",
              "ignored_pixels"]
    assert len(tables["folder"]) == SUBSET and (tables["folder"]["status"] == "ok").all()
    assert tables["folder"]["intersection"].sum() > 0
    for name in ("hf", "parquet"):
        pd.testing.assert_frame_equal(tables[name][counts], tables["folder"][counts])
        # The masks of the Parquet table were arrays, re-encoded: the hash is the image's
        # and the mask's bytes, so only the HF table (the files' bytes) hashes alike.
    assert (tables["hf"]["content_sha256"] == tables["folder"]["content_sha256"]).all()


def _write(path: Path, rows: dict) -> Path:
    pq.write_table(pa.table(rows), path)
    return path


def test_each_bad_row_is_a_problem_naming_the_file_row_and_reason(voc_tables, tmp_path):
    import cv2

    folder = voc_tables[0]
    images = sorted((folder / "images").iterdir())[:5]
    mask = cv2.imread(str(folder / "masks" / f"{images[0].stem}.png"), cv2.IMREAD_UNCHANGED)
    good = [p.read_bytes() for p in images]
    table = _write(tmp_path / "set.parquet", {
        "image": [good[0], b"not an image", None, good[3], good[4]],
        "mask": [mask.tolist(), mask.tolist(), mask.tolist(), [[0, 255], [255, 0]],
                 [[0, 300], [255, 0]]],
        "group": ["a", "b", "a", "b", "a"],
    })
    loaded = load_dataset(table)
    lines = [str(p) for p in loaded.problems]
    assert [s.row for s in loaded.samples] == [1]
    assert lines == [
        f"{table}, row 2 (row000002): column 'image' holds 12 bytes that are no PNG, JPEG, "
        "BMP, WebP or TIFF image",
        f"{table}, row 3 (row000003): column 'image' is empty",
        # a file check of the cached file, named by the table's row and column
        f"{table}, row 4 (row000004): column 'mask': mask is 2x2 but the image is "
        f"{_size(good[3])}",
        f"{table}, row 5 (row000005): column 'mask' holds int64 values outside 0..255; "
        "expected 8-bit values",
    ]
    assert loaded.rows == 5 and loaded.attribute_columns == ["group"]


def _size(content: bytes) -> str:
    import cv2

    height, width = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_UNCHANGED).shape[:2]
    return f"{width}x{height}"


def test_a_missing_column_and_a_split_dictionary_are_one_line(voc_tables, tmp_path):
    table = _write(tmp_path / "t.parquet", {"img": [b""], "mask": [b""]})
    with pytest.raises(UsageError, match=r"^--image-column image: no such column in .*t\.parquet"
                                         r" \(columns: img, mask\)$"):
        load_dataset(table)
    splits = datasets.DatasetDict({"test": datasets.load_from_disk(str(voc_tables[1]))})
    splits.save_to_disk(str(tmp_path / "dict"))
    with pytest.raises(UsageError, match=r"a DatasetDict of splits \(test\); give one split's "
                                         r"folder, e.g. --dataset .*dict/test$"):
        load_dataset(tmp_path / "dict")
    assert len(load_dataset(tmp_path / "dict" / "test").samples) == SUBSET
    with pytest.raises(UsageError, match="--mask-column: only for a Hugging Face"):
        load_dataset(voc_tables[0], mask_column="m")


def test_without_the_extra_the_refusal_names_it(voc_tables, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets -> ImportError
    with pytest.raises(UsageError) as refused:
        load_dataset(voc_tables[1])
    assert str(refused.value) == (f"--dataset {voc_tables[1]}: a Hugging Face dataset folder "
                                  "needs the datasets package: pip install 'fairness-eval[hf]'")
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(UsageError, match=r"needs pyarrow: pip install 'fairness-eval\[hf\]'$"):
        load_dataset(voc_tables[2])


def test_a_second_load_reuses_the_cached_files(voc_tables, tmp_path):
    first = load_dataset(voc_tables[2], image_column="picture", mask_column="truth")
    stamp = first.samples[0].image.stat().st_mtime_ns
    again = load_dataset(voc_tables[2], image_column="picture", mask_column="truth")
    assert [s.image for s in again.samples] == [s.image for s in first.samples]
    assert again.samples[0].image.stat().st_mtime_ns == stamp
    assert first.source_sha256 == again.source_sha256


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from fairness_eval.cli import main

    monkeypatch.setattr(sys, "argv", ["fairness-eval", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    out = capsys.readouterr()
    return stopped.value.code, out.out, out.err


def test_validate_takes_the_column_options(voc_tables, monkeypatch, capsys):
    parquet = voc_tables[2]
    code, out, _ = _cli(monkeypatch, capsys, "validate", "--dataset", str(parquet),
                        "--image-column", "picture", "--mask-column", "truth")
    assert code == 0
    assert out.splitlines()[0] == f"{parquet}: {SUBSET} rows, {SUBSET} valid, 0 with problems"
    code, _, err = _cli(monkeypatch, capsys, "validate", "--dataset", str(parquet))
    assert code == 2
    assert err.strip() == (f"fairness-eval: error: --image-column image: no such column in "
                           f"{parquet} (columns: image_id, picture, truth, ignore, {ATTRIBUTE})")


def test_each_kind_of_cell_gives_the_file_it_holds(voc_tables, tmp_path):
    import cv2

    from fairness_eval.data.formats.table_cells import CellProblem, cell_file

    image = sorted((voc_tables[0] / "images").iterdir())[0]
    content = image.read_bytes()
    shutil.copy(image, tmp_path / "photo.jpg")
    assert cell_file(content, "image", tmp_path, mask=False) == (content, ".jpg")
    # an Image feature that kept only the path (relative to the table), and a plain path
    assert cell_file({"bytes": None, "path": "photo.jpg"}, "image", tmp_path,
                     mask=False) == (content, ".jpg")
    assert cell_file(str(tmp_path / "photo.jpg"), "image", tmp_path, mask=False)[0] == content
    with pytest.raises(CellProblem, match=r"^column 'image': .*gone\.jpg: No such file"):
        cell_file("gone.jpg", "image", tmp_path, mask=False)
    # arrays: a boolean mask is person where True; an RGB image keeps its channels' order
    encoded, suffix = cell_file(np.array([[True, False]]), "mask", tmp_path, mask=True)
    assert suffix == ".png"
    assert cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_UNCHANGED).tolist() == \
        [[255, 0]]
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0] = 200  # red
    encoded, _ = cell_file(rgb, "image", tmp_path, mask=False)
    bgr = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)
    assert bgr[0, 0].tolist() == [0, 0, 200]
    with pytest.raises(CellProblem, match=r"shape \(2, 3, 3\); expected a 2-D mask array"):
        cell_file(rgb, "mask", tmp_path, mask=True)
    with pytest.raises(CellProblem, match=r"^column 'mask' holds float64 values; expected "
                                          r"integers 0\.\.255 or booleans$"):
        cell_file(np.full((2, 2), 0.5), "mask", tmp_path, mask=True)
