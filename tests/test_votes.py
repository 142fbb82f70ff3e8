"""Attribute votes read three ways (a long table, a Label Studio export, count columns) give
one record; bad rows name file, row and reason; bins group an ordinal scale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairness_eval.data.label_bins import binned, parse_bins
from fairness_eval.data.label_policies import DISPUTED, policy_labels
from fairness_eval.data.votes import (
    InvalidVotes,
    load_votes,
    read_long_votes,
    votes_from_counts,
)
from fairness_eval.data.votes_formats import annotator_of, task_image
from fairness_eval.errors import UsageError
from fairness_eval.results.vocabularies import standard_vocabularies

# Three annotators label skin tone (Fitzpatrick) and gender of four images. Annotator 3
# skips "d"; "b" and "c" are disputed on skin tone, "c" on gender.
VOTES = [  # image, annotator, skin_tone, gender
    ("a", "1", "2", "female"), ("a", "2", "2", "female"), ("a", "3", "2", "female"),
    ("b", "1", "3", "male"), ("b", "2", "4", "male"), ("b", "3", "4", "male"),
    ("c", "1", "5", "female"), ("c", "2", "6", "male"), ("c", "3", "5", "non_binary"),
    ("d", "1", "1", "male"), ("d", "2", "2", "male"),
]


def long_table(tmp_path: Path) -> Path:
    path = tmp_path / "votes.csv"
    lines = ["image,annotator,attribute,value"]
    for image, annotator, skin, gender in VOTES:
        # Raw spellings the vocabularies map: roman numerals, capitals, a file suffix.
        skin_raw = {"2": "II", "4": "type 4"}.get(skin, skin)
        lines.append(f"{image}.jpg,{annotator},skin_tone,{skin_raw}")
        lines.append(f"{image},{annotator},gender,{gender.upper()}")
    path.write_text("\n".join(lines) + "\n")
    return path


def label_studio_export(tmp_path: Path) -> Path:
    tasks = []
    for number, image in enumerate("abcd", start=1):
        annotations = []
        for annotator, skin, gender in [(a, s, g) for i, a, s, g in VOTES if i == image]:
            who: object = int(annotator) if annotator != "2" else \
                {"id": 2, "email": "two@example.org"}
            annotations.append({"id": number * 10 + int(annotator), "completed_by": who,
                                "was_cancelled": False, "result": [
                {"from_name": "skin_tone", "to_name": "image", "type": "choices",
                 "value": {"choices": [skin]}},
                {"from_name": "gender", "to_name": "image", "type": "choices",
                 "value": {"choices": [gender]}},
                {"from_name": "box", "to_name": "image", "type": "rectanglelabels",
                 "value": {"x": 1, "y": 2, "width": 3, "height": 4,
                           "rectanglelabels": ["person"]}}]})
        if image == "d":  # annotator 3 skipped it
            annotations.append({"id": 99, "completed_by": 3, "was_cancelled": True,
                                "result": []})
        tasks.append({"id": number, "data": {"image": f"/data/upload/1/3f2a9c1{number}-"
                                             f"{image}.jpg"}, "annotations": annotations})
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    return path


def count_columns(tmp_path: Path) -> Path:
    path = tmp_path / "attributes.csv"
    header = ["image"] + [f"skin_tone_{v}" for v in range(1, 7)] + ["skin_tone_na"]
    rows = [",".join(header)]
    for image in "abcd":
        tally = [sum(1 for i, _, s, _ in VOTES if i == image and s == str(v))
                 for v in range(1, 7)]
        cells = ["" if n == 0 else str(n) for n in tally]
        rows.append(",".join([image, *cells, "1" if image == "d" else "0"]))
    path.write_text("\n".join(rows) + "\n")
    return path


def counts_of(table, attribute):
    return {image: votes.counts for image, votes in table.attributes[attribute].images.items()}


def test_three_sources_give_the_same_votes_and_groups(tmp_path):
    long = read_long_votes(long_table(tmp_path))
    studio = load_votes(label_studio_export(tmp_path))
    counts = votes_from_counts(count_columns(tmp_path), ["skin_tone"])
    assert studio.kind == "label-studio" and studio.skipped == 1
    assert long.skipped == 0 and counts.kind == "counts"
    expected = {"a": {"2": 3}, "b": {"3": 1, "4": 2}, "c": {"5": 2, "6": 1},
                "d": {"1": 1, "2": 1}}
    for table in (long, studio, counts):
        assert counts_of(table, "skin_tone") == expected
        assert table.attributes["skin_tone"].values == tuple(str(v) for v in range(1, 7))
        assert table.attributes["skin_tone"].ordinal
        assert policy_labels(table.attributes["skin_tone"], "majority") == \
            {"a": "2", "b": "4", "c": "5", "d": DISPUTED}
        assert policy_labels(table.attributes["skin_tone"], "unanimous") == \
            {"a": "2", "b": DISPUTED, "c": DISPUTED, "d": DISPUTED}
    assert counts_of(long, "gender") == counts_of(studio, "gender")
    assert long.attributes["gender"].images["c"].annotators == \
        studio.attributes["gender"].images["c"].annotators == \
        {"1": "female", "2": "male", "3": "non_binary"}
    assert studio.attributes["skin_tone"].annotators() == ("1", "2", "3")
    assert counts.attributes["skin_tone"].images["b"].annotators == {}
    assert not counts.attributes["skin_tone"].named


def test_label_studio_file_names_and_annotators():
    assert task_image("/data/upload/1/3f2a9c1d-photo.jpg") == "photo"
    assert task_image("/data/upload/12/3F2A9C1D-my%20photo.JPG") == "my photo"
    assert task_image("https://host/bucket/photo.png?token=x") == "photo"
    assert task_image("s3://bucket/deadbeef-photo.jpg") == "photo"
    # Not an 8-hex-digit prefix: the name is kept whole.
    assert task_image("/data/upload/1/3f2a9c1-photo.jpg") == "3f2a9c1-photo"
    assert annotator_of(7) == "7"
    assert annotator_of({"id": 7, "email": "x@y"}) == "7"
    assert annotator_of({"email": "x@y"}) == "x@y"
    assert annotator_of(None) is None and annotator_of(True) is None


def test_votes_image_key(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"id": 5, "data": {"img": "/data/upload/1/0123abcd-p.jpg"},
                                 "annotations": [{"completed_by": 1, "result": [
                                     {"from_name": "gender", "value": {"choices": ["F"]}}]}]}]))
    with pytest.raises(InvalidVotes, match=r"export.json, row 1: task 5: no image file name "
                       r"in data.image \(--votes-image-key"):
        load_votes(path)
    table = load_votes(path, image_key="img")
    assert counts_of(table, "gender") == {"p": {"female": 1}}


@pytest.mark.parametrize("row, reason", [
    ("a,1,skin_tone,7", r"votes.csv, row 2 \(a\): skin_tone '7' is not in the vocabulary "
                        r"skin_tone \(1, 2, 3, 4, 5, 6\)"),
    ("a,,skin_tone,2", r"votes.csv, row 2 \(a\): empty 'annotator' cell"),
    ("a,1,skin_tone,3", r"votes.csv, row 2 \(a\): annotator '1' votes twice on skin_tone "
                        r"\(also row 1\)"),
])
def test_bad_long_rows_name_file_row_and_reason(tmp_path, row, reason):
    path = tmp_path / "votes.csv"
    path.write_text(f"image,annotator,attribute,value\na,1,skin_tone,2\n{row}\n")
    with pytest.raises(InvalidVotes, match=reason) as caught:
        read_long_votes(path)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, UsageError)  # exit 2


def test_all_problems_kept_and_counted(tmp_path):
    path = tmp_path / "votes.csv"
    path.write_text("image,annotator,attribute,value\na,1,skin_tone,9\nb,1,skin_tone,0\n"
                    "c,1,gender,female\n")
    with pytest.raises(InvalidVotes, match=r"row 1 \(a\).*\(and 1 more problem\(s\)\)$") as caught:
        read_long_votes(path)
    assert [p.line for p in caught.value.problems] == [1, 2]


def test_missing_columns_and_unknown_suffix(tmp_path):
    path = tmp_path / "votes.csv"
    path.write_text("image,rater,attribute,value\na,1,gender,f\n")
    with pytest.raises(UsageError, match=r"votes.csv: no column\(s\) annotator"):
        read_long_votes(path)
    other = tmp_path / "votes.xlsx"
    other.write_text("x")
    with pytest.raises(UsageError, match="neither a vote table"):
        load_votes(other)


@pytest.mark.parametrize("task, reason", [
    ({"id": 3, "data": {"image": "x.jpg"}, "annotations": [
        {"completed_by": 1, "result": [{"from_name": "gender",
                                        "value": {"choices": ["female", "male"]}}]}]},
     r"export.json, row 1 \(x\): task 3: annotator '1' gives gender \[\"female\", \"male\"\]; "
     "one value per attribute is expected"),
    ({"id": 3, "data": {"image": "x.jpg"}, "annotations": [
        {"result": [{"from_name": "gender", "value": {"choices": ["female"]}}]}]},
     r"export.json, row 1 \(x\): task 3: annotation 1 names no annotator"),
    ({"id": 3, "data": {"image": "x.jpg"}, "annotations": [
        {"completed_by": 1, "result": [{"from_name": "gender", "value": {"choices": ["f"]}}]},
        {"completed_by": 1, "result": [{"from_name": "gender", "value": {"choices": ["m"]}}]}]},
     r"export.json, row 1 \(x\): annotator '1' votes twice on gender \(also row 1\)"),
    ("not a task", r"export.json, row 1: a task must be a JSON object"),
])
def test_bad_label_studio_tasks(tmp_path, task, reason):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task]))
    with pytest.raises(InvalidVotes, match=reason):
        load_votes(path)


def test_label_studio_not_a_list(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('{"tasks": []}')
    with pytest.raises(UsageError, match="a Label Studio JSON export is a list of tasks"):
        load_votes(path)
    path.write_text("[{")
    with pytest.raises(UsageError, match=r"export.json: not JSON"):
        load_votes(path)


def test_bad_counts_name_row(tmp_path):
    path = tmp_path / "attributes.csv"
    path.write_text("image,skin_tone_1,skin_tone_2\na,2,1\nb,x,1\nc,-1,\n")
    with pytest.raises(InvalidVotes, match=r"attributes.csv, row 2 \(b\): 'skin_tone_1' is 'x', "
                       r"not a count of annotators.*\(and 1 more"):
        votes_from_counts(path, ["skin_tone"])
    with pytest.raises(UsageError, match=r"no count columns gender_<value>"):
        votes_from_counts(path, ["gender"])


def test_count_columns_with_a_named_vocabulary(tmp_path):
    path = tmp_path / "attributes.csv"
    cells = ",".join(f"skin_tone_{v}" for v in range(1, 11))
    path.write_text(f"image,{cells},skin_tone_na\nf1,0,0,2,1,0,0,0,0,0,0,0\n"
                    "f2,,,,,,,,,3,,\n")
    table = votes_from_counts(path, ["skin_tone"], {"skin_tone": "mst"})
    votes = table.attributes["skin_tone"]
    assert votes.values == tuple(str(v) for v in range(1, 11))
    assert counts_of(table, "skin_tone") == {"f1": {"3": 2, "4": 1}, "f2": {"9": 3}}
    with pytest.raises(UsageError, match="attributes.skin_tone.vocabulary: no vocabulary 'msx'"):
        votes_from_counts(path, ["skin_tone"], {"skin_tone": "msx"})


def test_mst_vocabulary():
    mst = standard_vocabularies()["mst"]
    assert list(mst.values) == [str(v) for v in range(1, 11)]
    assert mst.ordinal and standard_vocabularies()["skin_tone"].ordinal
    assert not standard_vocabularies()["region"].ordinal
    assert mst.canonical("MST 10") == "10" and mst.canonical("11") is None


def test_bins_group_an_ordinal_scale(tmp_path):
    mst = standard_vocabularies()["mst"]
    bins = parse_bins(["1-3", "4-7", "8-10"], mst, "attributes.skin_tone.bins")
    assert bins.groups == {"1-3": ("1", "2", "3"), "4-7": ("4", "5", "6", "7"),
                           "8-10": ("8", "9", "10")}
    assert bins.to_json()["8-10"] == ["8", "9", "10"]
    fitz = standard_vocabularies()["skin_tone"]
    assert list(parse_bins(["I-II", "3", "iv-vi"], fitz, "b").groups) == ["1-2", "3", "4-6"]
    for spec, reason in [(["1-3", "5-10"], "leaves out 4"), (["1-4", "4-10"], "overlaps"),
                         (["1-3", "4-7"], "no bin holds 8, 9, 10"), (["3-1"], "backwards"),
                         (["1-3", "4-x"], "not a value or range"), ("1-10", "must be a list")]:
        with pytest.raises(UsageError, match=f"attributes.skin_tone.bins: .*{reason}"):
            parse_bins(spec, mst, "attributes.skin_tone.bins")
    with pytest.raises(UsageError, match="bins need an ordinal vocabulary"):
        parse_bins(["a"], standard_vocabularies()["region"], "attributes.region.bins")
    # Binned before counting: 2, 3, 3 is unanimous on the binned scale.
    path = tmp_path / "votes.csv"
    path.write_text("image,annotator,attribute,value\n"
                    "a,1,t,2\na,2,t,3\na,3,t,3\nb,1,t,3\nb,2,t,4\n")
    votes = read_long_votes(path, {"t": "mst"}).attributes["t"]
    grouped = binned(votes, bins)
    assert grouped.values == ("1-3", "4-7", "8-10")
    assert grouped.images["a"].counts == {"1-3": 3}
    assert grouped.images["a"].annotators == {"1": "1-3", "2": "1-3", "3": "1-3"}
    assert policy_labels(grouped, "unanimous") == {"a": "1-3", "b": DISPUTED}


def folder_dataset(tmp_path: Path, attributes_csv: str):
    """A folder dataset of four 4x4 images a-d (masks half person) with an attributes.csv."""
    import cv2
    import numpy as np

    from fairness_eval.data.dataset import load_dataset

    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for image in "abcd":
        cv2.imwrite(str(root / "images" / f"{image}.png"), np.full((4, 4, 3), 90, np.uint8))
        mask = np.zeros((4, 4), np.uint8)
        mask[:2] = 255
        cv2.imwrite(str(root / "masks" / f"{image}.png"), mask)
    (root / "attributes.csv").write_text(attributes_csv)
    return root, load_dataset


def test_apply_votes_sets_the_label_column(tmp_path):
    from fairness_eval.data.vote_labels import apply_votes, counts_from_dataset

    root, load_dataset = folder_dataset(tmp_path, "image,region\na,europe\nb,europe\n"
                                                  "c,e_asia\nd,\n")
    dataset = load_dataset(root)
    table = load_votes(label_studio_export(tmp_path))
    voted = apply_votes(dataset, table, "unanimous", {})
    assert set(voted) == {"skin_tone", "gender"}
    assert dataset.attributes == ["region", "gender", "skin_tone"]  # votes in name order
    labels = {s.image_id: s.attributes["skin_tone"] for s in dataset.samples}
    assert labels == {"a": "2", "b": DISPUTED, "c": DISPUTED, "d": DISPUTED}
    assert dataset.value_counts()["skin_tone"] == {"(disputed)": 3, "2": 1}
    # Count columns, binned: the columns become one attribute and leave the table.
    cells = ",".join(f"skin_tone_{v}" for v in range(1, 7))
    rows = "\n".join(f"{image},{','.join(str(n) for n in tally)}" for image, tally in [
        ("a", [0, 3, 0, 0, 0, 0]), ("b", [0, 0, 1, 2, 0, 0]), ("c", [0, 0, 0, 0, 2, 1]),
        ("d", [1, 1, 0, 0, 0, 0])])
    root, load_dataset = folder_dataset(tmp_path / "counts", f"image,{cells}\n{rows}\n")
    dataset = load_dataset(root)
    per_attribute = {"skin_tone": {"votes": "counts", "bins": ("1-3", "4-6")}}
    table = counts_from_dataset(dataset, ["skin_tone"], per_attribute)
    voted = apply_votes(dataset, table, "majority", per_attribute)
    assert dataset.attribute_columns == ["skin_tone"] == dataset.attributes
    assert {s.image_id: s.attributes for s in dataset.samples} == {
        "a": {"skin_tone": "1-3"}, "b": {"skin_tone": "4-6"}, "c": {"skin_tone": "4-6"},
        "d": {"skin_tone": "1-3"}}
    assert voted["skin_tone"].bins.groups["4-6"] == ("4", "5", "6")
    assert voted["skin_tone"].votes.images["b"].counts == {"1-3": 1, "4-6": 2}
    assert voted["skin_tone"].votes.images["d"].counts == {"1-3": 2}  # 1 and 2: one bin


def test_apply_votes_refuses_a_second_source_and_notes_unknown_images(tmp_path):
    from fairness_eval.data.vote_labels import apply_votes

    root, load_dataset = folder_dataset(tmp_path, "image,gender\na,female\n")
    table = load_votes(label_studio_export(tmp_path))
    with pytest.raises(UsageError, match="attribute 'gender' is both voted in .*export.json "
                       "and a column of .*attributes.csv; give each attribute one source"):
        apply_votes(load_dataset(root), table, "majority", {})
    dataset = load_dataset(root)
    path = tmp_path / "votes.csv"
    path.write_text("image,annotator,attribute,value\na,1,skin_tone,2\nzz,1,skin_tone,3\n")
    apply_votes(dataset, read_long_votes(path), "majority", {}, requested=("skin_tone",))
    assert any("1 image(s) voted on skin_tone" in note and "not in the dataset" in note
               for note in dataset.notes)
    assert {s.image_id: s.attributes["skin_tone"] for s in dataset.samples} == {
        "a": "2", "b": None, "c": None, "d": None}


def test_attribute_tables_declare_votes_vocabulary_and_bins(tmp_path):
    import tomllib

    from fairness_eval.config.files import parse_config
    from fairness_eval.config.settings import Settings

    settings = Settings(per_attribute={"skin_tone": {"votes": "counts", "vocabulary": "mst",
                                                     "bins": ["1-3", "4-7", "8-10"]}})
    assert settings.per_attribute["skin_tone"] == {
        "votes": "counts", "vocabulary": "mst", "bins": ("1-3", "4-7", "8-10")}
    assert "attribute_votes" not in settings.as_dict()  # recorded only when set
    for table, reason in [
        # Without a vocabulary named, skin_tone is Fitzpatrick's 1-6.
        ({"bins": ["1-3", "4-7"]}, r"attributes.skin_tone.bins: '4-7' is not a value or range "
                                   r"of the skin_tone scale \(1, 2, 3, 4, 5, 6\)"),
        ({"vocabulary": "mst", "bins": ["1-3", "4-7"]},
         r"attributes.skin_tone.bins: no bin holds 8, 9, 10"),
        ({"votes": "ballots"}, r"attributes.skin_tone.votes.*is not one of counts"),
        ({"vocabulary": "monk"}, r"attributes.skin_tone.vocabulary.*is not one of region, "
                                 r"skin_tone, mst, gender"),
    ]:
        with pytest.raises(UsageError, match=reason):
            Settings(per_attribute={"skin_tone": table})
    path = tmp_path / "fairness-eval.toml"
    text = '[attributes.skin_tone]\nvocabulary = "mst"\nbins = ["1-3", "5-10"]\n'
    with pytest.raises(UsageError, match=r"fairness-eval.toml: .*skin_tone.bins.*leaves out 4"):
        parse_config(tomllib.loads(text), path)


def test_count_columns_of_a_dataset_name_its_file_and_row(tmp_path):
    from fairness_eval.data.vote_labels import counts_from_dataset

    root, load_dataset = folder_dataset(tmp_path, "image,skin_tone_1,skin_tone_2\n"
                                                  "a,2,1\nb,two,\nc,,3\nd,1,1\n")
    dataset = load_dataset(root)
    with pytest.raises(InvalidVotes, match=r"attributes.csv, row 2 \(b\): 'skin_tone_1' is "
                       r"'two', not a count of annotators \(a whole number >= 0\)$"):
        counts_from_dataset(dataset, ["skin_tone"], {})
    with pytest.raises(UsageError, match=r"attributes.csv: no count columns gender_<value>"):
        counts_from_dataset(dataset, ["gender"], {})
