"""The card's bounds (report/bounds.py): at most GROUPS_SHOWN groups per attribute, the worst
and the best by their recorded value, and ATTRIBUTES_SHOWN attributes in full, the worst
verdicts first; what is left out is named with where to find it, and the time to render a
card of 3,000 groups stays under a stated bound."""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path

import pytest
from report_helpers import fixture_results

from fairness_eval.report import render_reports
from fairness_eval.report.bounds import (
    ATTRIBUTES_SHOWN,
    GROUPS_SHOWN,
    shown_attributes,
    shown_groups,
)
from fairness_eval.results.schema import ResultsDocument

# The stated bound: the HTML and PDF card of 3,000 groups within this many seconds of CPU
# time of the rendering process (CPU, not wall time: the machine may be shared). Before the
# bounds the HTML alone took 117 s and 1.7 GB, and the PDF did not finish in 180 s; with
# them it takes about 3.5 s.
CARD_SECONDS = 30.0


def value_of(group: int, groups: int) -> float:
    """A group's value, a permutation of the groups so that order and value differ."""
    return 0.5 + 0.4 * ((group * 7919) % groups) / groups


def many_groups(folder: Path, groups: int, attributes: int = 1, per_group: int = 2) -> Path:
    """A run folder (results.json, per_image.csv) of `attributes` attributes of `groups`
    groups each, every group `per_group` images."""
    document = _document(groups, attributes, per_group)
    names = list(document["attributes"])
    lines = ["row,image,status,reason,intersection,union,iou,gt_area,pred_area,ignored_pixels,"
             "both_empty," + ",".join(names)]
    for i in range(groups * per_group):
        g = i // per_group
        iou = value_of(g, groups)
        lines.append(f"{i + 1},img{i:06d},ok,,{int(iou * 1000)},1000,{iou:.6f},900,900,0,False,"
                     + ",".join(f"group {g:05d}" for _ in names))
    folder.mkdir(parents=True)
    (folder / "per_image.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "results.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def test_groups_shown_are_the_worst_and_the_best_in_document_order():
    document = ResultsDocument.from_json(_document(60))
    attribute = document.attributes["attr0"]
    shown = shown_groups(attribute)
    assert len(shown) == GROUPS_SHOWN
    assert list(shown) == [n for n in attribute.groups if n in shown]  # document order
    ranked = sorted(attribute.groups, key=lambda n: attribute.groups[n].value)
    worst, best = GROUPS_SHOWN - GROUPS_SHOWN // 2, GROUPS_SHOWN // 2
    assert set(shown) == set(ranked[:worst]) | set(ranked[-best:])
    # Lower is better (flicker): the worst are the highest.
    flipped = shown_groups(attribute, lower_is_better=True)
    assert set(flipped) == set(ranked[-worst:]) | set(ranked[:best])
    small = ResultsDocument.from_json(_document(GROUPS_SHOWN)).attributes["attr0"]
    assert shown_groups(small) == tuple(small.groups)


def test_attributes_in_full_put_violations_first_and_keep_their_numbers():
    raw = _document(3, attributes=ATTRIBUTES_SHOWN + 5)
    last = f"attr{ATTRIBUTES_SHOWN + 4}"
    raw["attributes"][last]["verdict"] = "violation"
    document = ResultsDocument.from_json(raw)
    attributes = list(document.attributes.values())
    shown = shown_attributes(attributes)
    assert len(shown) == ATTRIBUTES_SHOWN
    assert [s.index for s in shown] == sorted(s.index for s in shown)
    assert shown[-1].attribute.name == last and shown[-1].index == ATTRIBUTES_SHOWN + 4
    assert all(s.hidden_groups == 0 for s in shown)
    assert shown[0].attribute == attributes[0]  # nothing recomputed or dropped


@pytest.mark.slow
def test_card_of_3000_groups_renders_html_and_pdf_within_the_bound(tmp_path):
    groups = 3000
    run = many_groups(tmp_path / "run", groups)
    started = time.process_time()
    render_reports(run, ("html", "pdf"))
    seconds = time.process_time() - started
    assert seconds < CARD_SECONDS, f"{seconds:.1f} s of CPU for {groups} groups"
    html = (run / "model_card.html").read_text(encoding="utf-8")
    assert f"{groups - GROUPS_SHOWN} more groups not shown" in html
    assert "every image in per_image.csv" in html
    ranked = sorted(range(groups), key=lambda g: value_of(g, groups))
    results = html[html.index('id="results"'):html.index("</section>", html.index('id="results"'))]
    listed = set(re.findall(r'<td class="group">(group \d{5})', results))
    assert len(listed) == GROUPS_SHOWN
    assert f"group {ranked[0]:05d}" in listed and f"group {ranked[-1]:05d}" in listed
    assert (run / "model_card.pdf").read_bytes().startswith(b"%PDF")


def _document(groups: int, attributes: int = 1, per_group: int = 2) -> dict:
    """A results document (parsed JSON) of `attributes` attributes of `groups` groups, each
    group's figures those of the fixture run's group "Male" with its own value."""
    document = fixture_results()
    template = document["attributes"]["bourdev_subcategory"]
    document["attributes"] = {}
    for a in range(attributes):
        block = copy.deepcopy(template)
        block["verdict"] = "pass"
        block["groups"] = {}
        for g in range(groups):
            value = value_of(g, groups)
            group = copy.deepcopy(template["groups"]["Male"])
            group.update(value=value, mean_iou=value, n=per_group, ci=[value - 0.05, value + 0.05],
                         deviation=value - 0.7, deviation_ci=[value - 0.75, value - 0.65])
            block["groups"][f"group {g:05d}"] = group
        document["attributes"][f"attr{a}"] = block
    document["overall"]["n"] = groups * per_group
    return document


@pytest.mark.slow
def test_card_of_300_attributes_shows_the_bounded_number_in_full(tmp_path):
    run = many_groups(tmp_path / "run", 4, attributes=300, per_group=1)
    started = time.process_time()
    # The HTML alone: the PDF's bound is the 3,000 groups' test above (the PDF of this
    # card, 300 summary rows, adds about 8 s of CPU to the suite and no new claim).
    render_reports(run, ("html",))
    seconds = time.process_time() - started
    assert seconds < CARD_SECONDS, f"{seconds:.1f} s of CPU for 300 attributes"
    html = (run / "model_card.html").read_text(encoding="utf-8")
    assert html.count('<div class="attribute" id="attribute-') == ATTRIBUTES_SHOWN
    assert f"{300 - ATTRIBUTES_SHOWN} more attributes" in html
    # Every attribute keeps its anchor: the fairness summary links to each of them.
    assert all(f'id="attribute-{i}"' in html for i in range(1, 301))
