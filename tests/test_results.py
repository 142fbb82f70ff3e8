"""Reading a run folder back: refusing what is not a results document, naming the fault."""

import json

import pytest

from fairness_eval.errors import UsageError
from fairness_eval.results.document import read_per_image, read_results, to_jsonable


def test_per_image_table_with_a_non_number_names_the_line(tmp_path):
    (tmp_path / "per_image.csv").write_text(
        "row,image,status,intersection,union,iou\n1,a,ok,5,10,0.5\n2,b,ok,five,10,0.5\n")
    with pytest.raises(UsageError, match=r"per_image.csv, line 3: column 'intersection' holds"):
        read_per_image(tmp_path)


def test_per_image_values_round_trip(tmp_path):
    (tmp_path / "per_image.csv").write_text(
        "row,image,status,intersection,union,iou,both_empty,region\n"
        "1,007,ok,5,10,0.5,False,NA\n2,b,skipped,,,,,\n")
    table = read_per_image(tmp_path)
    assert table["image"].tolist() == ["007", "b"]  # ids stay text
    assert table["region"].tolist() == ["NA", ""]  # "NA" is a value, "" not annotated
    assert table["iou"].iloc[0] == 0.5 and table["iou"].isna().iloc[1]


def test_results_document_checks(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(UsageError, match="not a valid results document"):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"schema_version": "9.0"}))
    with pytest.raises(UsageError, match="schema version 9.0"):
        read_results(tmp_path)


def test_to_jsonable_drops_nan_and_numpy_types():
    import numpy as np

    assert to_jsonable({"a": np.float64("nan"), "b": (np.int64(3),)}) == {"a": None, "b": [3]}
