"""`validate` on a video dataset (workflow.validate) counts clips and their frames, not rows."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from video_helpers import CLIPS, davis_subset  # noqa: E402

from fairness_eval import workflow  # noqa: E402


def test_validate_on_clips_says_clips_and_frames(tmp_path):
    root = davis_subset(tmp_path / "davis", 3)
    printed: list[str] = []
    done = workflow.validate(root, ["background"], echo=printed.append, log=printed.append)
    assert done.exit_code == 0 and done.rows == len(CLIPS)
    assert printed[0] == f"{root}: 3 clips, 3 valid (9 frames), 0 with problems"
    assert not any("rows" in line for line in printed)


def test_validate_names_the_clips_with_problems(tmp_path):
    root = davis_subset(tmp_path / "davis", 3)
    bad = root / "Annotations" / "480p" / CLIPS[1] / "00001.png"
    bad.unlink()
    bad.write_bytes(b"not a png")
    printed: list[str] = []
    logged: list[str] = []
    done = workflow.validate(root, echo=printed.append, log=logged.append)
    assert printed[0] == f"{root}: 3 clips, 2 valid (6 frames), 1 with problems"
    assert done.exit_code == 2
    assert done.error == f"1 problem(s) in the clips of {root}"
    assert len(logged) == 1 and logged[0].startswith(str(bad))
