"""Video datasets (data/video.py): both layouts detected and loaded, every problem listed."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from video_helpers import CLIPS, DAVIS, davis_subset, video_subset  # noqa: E402

from fairness_eval.data.dataset import load_dataset  # noqa: E402
from fairness_eval.data.samples import InvalidDataset  # noqa: E402
from fairness_eval.data.video import (  # noqa: E402
    DAVIS as DAVIS_LAYOUT,
)
from fairness_eval.data.video import (  # noqa: E402
    VIDEO_FILES,
    VideoDataset,
    detect_video_layout,
)
from fairness_eval.errors import UsageError  # noqa: E402


def test_the_shared_davis_set_loads_as_clips_with_every_frame_annotated():
    dataset = load_dataset(DAVIS, ["background"])
    assert isinstance(dataset, VideoDataset) and dataset.layout == DAVIS_LAYOUT
    clips = dataset.clips_to_run()
    assert [c.name for c in clips] == list(CLIPS) and [c.row for c in clips] == [1, 2, 3]
    for clip in clips:
        files = sorted((DAVIS / "JPEGImages/480p" / clip.name).glob("*.jpg"))
        assert [f.index for f in clip.frames] == [int(p.stem) for p in files]
        assert len(clip.annotated) == len(files)
    assert dataset.value_counts() == {"background": {"crowd": 2, "open": 1}}
    assert dataset.frame_count == sum(len(c.frames) for c in clips)
    assert dataset.problems == []


def test_sparse_annotation_runs_every_frame_and_scores_the_masked_ones(tmp_path):
    root = davis_subset(tmp_path / "sparse", frames=10, every=5)
    clip = load_dataset(root).clips_to_run()[0]
    assert [f.index for f in clip.frames] == list(range(10))
    assert [f.index for f in clip.annotated] == [0, 5]


def test_layouts_are_detected_and_voc_is_not_mistaken_for_davis(tmp_path):
    assert detect_video_layout(davis_subset(tmp_path / "d", frames=2)) == DAVIS_LAYOUT
    assert detect_video_layout(video_subset(tmp_path / "v", frames=2)) == VIDEO_FILES
    voc = tmp_path / "voc"
    for folder in ("JPEGImages", "Annotations", "SegmentationClass"):
        (voc / folder).mkdir(parents=True)
    cv2.imwrite(str(voc / "JPEGImages" / "a.jpg"), np.zeros((4, 4, 3), np.uint8))
    assert detect_video_layout(voc) is None


@pytest.mark.slow
def test_video_files_give_frames_by_decoded_index_and_masks_by_name(tmp_path):
    root = video_subset(tmp_path / "v", frames=7, every=3)
    dataset = load_dataset(root, ["background"])
    assert dataset.layout == VIDEO_FILES and dataset.problems == []
    for clip in dataset.clips_to_run():
        assert clip.video == root / "videos" / f"{clip.name}.avi"
        assert [f.index for f in clip.frames] == list(range(7))
        assert [f.index for f in clip.annotated] == [0, 3, 6]


def _tiny_davis(root: Path, clips: dict[str, int], size=(24, 16)) -> Path:
    """A DAVIS layout of synthetic frames (validation only), each frame masked."""
    width, height = size
    for clip, frames in clips.items():
        images = root / "JPEGImages" / "480p" / clip
        masks = root / "Annotations" / "480p" / clip
        images.mkdir(parents=True)
        masks.mkdir(parents=True)
        for index in range(frames):
            cv2.imwrite(str(images / f"{index:05d}.jpg"), np.full((height, width, 3), 90,
                                                                  np.uint8))
            cv2.imwrite(str(masks / f"{index:05d}.png"), np.zeros((height, width), np.uint8))
    return root


def test_every_problem_is_listed_on_its_own_line_naming_the_file(tmp_path):
    root = _tiny_davis(tmp_path / "bad", {"a": 3, "b": 3, "c": 2, "d": 2, "e": 2})
    masks = root / "Annotations" / "480p"
    cv2.imwrite(str(masks / "a" / "00001.png"), np.zeros((5, 5), np.uint8))  # wrong size
    cv2.imwrite(str(masks / "a" / "00002.png"), np.zeros((16, 24, 3), np.uint8))  # colour
    cv2.imwrite(str(masks / "b" / "00009.png"), np.zeros((16, 24), np.uint8))  # no frame 9
    cv2.imwrite(str(masks / "b" / "first.png"), np.zeros((16, 24), np.uint8))  # not a number
    for mask in (masks / "c").iterdir():
        mask.unlink()  # nothing to score
    (masks / "d" / "00001.png").write_bytes(b"not a png")
    (masks / "ghost").mkdir()  # annotations without frames
    dataset = load_dataset(root)
    lines = [str(p) for p in dataset.problems]
    expected = {
        masks / "a" / "00001.png": "mask is 5x5 but frame 1 is 24x16",
        masks / "a" / "00002.png": "mask has 3 channels",
        masks / "b" / "00009.png": "mask of frame 9, but there is no frame 9",
        masks / "b" / "first.png": "mask name is not a frame number",
        masks / "c": "no mask for any frame of the clip",
        masks / "d" / "00001.png": "unreadable mask",
        masks / "ghost": "annotations of clip ghost, which has no frames",
    }
    for path, reason in expected.items():
        assert any(line.startswith(str(path)) and reason in line for line in lines), (path, lines)
    assert len(lines) == len(expected)
    assert all("\n" not in line for line in lines)
    assert [c.name for c in dataset.clips_to_run()] == ["e"]  # clips with a problem are out


def test_attributes_are_keyed_by_clip_and_a_row_for_no_clip_stops_the_dataset(tmp_path):
    root = _tiny_davis(tmp_path / "attrs", {"a": 1, "b": 1})
    (root / "attributes.csv").write_text("clip,light\na,dim\nb,\n")
    dataset = load_dataset(root)
    assert [c.attributes for c in dataset.clips_to_run()] == [{"light": "dim"},
                                                              {"light": None}]
    (root / "attributes.csv").write_text("clip,light\na,dim\nzz,bright\n")
    with pytest.raises(InvalidDataset) as refused:
        load_dataset(root)
    assert "zz" in str(refused.value.problems[0]) and "no such clip" in str(
        refused.value.problems[0])
    (root / "attributes.csv").write_text("image,light\na,dim\n")
    with pytest.raises(UsageError, match="no 'clip' column"):
        load_dataset(root)
    (root / "attributes.csv").write_text("clip,frame\na,1\n")
    with pytest.raises(UsageError, match="clash with columns of per_frame.csv"):
        load_dataset(root)


def test_a_file_that_is_no_video_is_a_problem_naming_it(tmp_path):
    root = video_subset(tmp_path / "v", frames=2)
    broken = root / "videos" / "broken.mp4"
    broken.write_bytes(b"\x00" * 100)
    (root / "Annotations" / "broken").mkdir()
    dataset = load_dataset(root)
    assert [str(p) for p in dataset.problems if p.image == "broken"] == [
        f"{broken}, row 2 (broken): cannot be opened as a video (not a video, or a codec "
        "OpenCV lacks)"]
    assert [c.name for c in dataset.clips_to_run()] == list(CLIPS)


def test_a_mask_past_the_last_frame_of_a_video_is_a_problem(tmp_path):
    root = video_subset(tmp_path / "v", frames=3)
    extra = root / "Annotations" / CLIPS[0] / "00003.png"
    extra.symlink_to(DAVIS / "Annotations/480p" / CLIPS[0] / "00003.png")
    dataset = load_dataset(root)
    assert len(dataset.problems) == 1
    assert str(dataset.problems[0]).startswith(str(extra))
    assert "has 3 frames (0 to 2)" in str(dataset.problems[0])
