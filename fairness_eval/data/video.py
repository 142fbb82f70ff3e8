"""Video datasets: clips of frames with per-frame person masks, found from the folder layout.

Two layouts, one result (`VideoDataset`, a `Dataset` whose rows are clips):

    DAVIS                                       video files
    JPEGImages/<resolution>/<clip>/00000.jpg    videos/<clip>.mp4   (any container OpenCV reads)
    Annotations/<resolution>/<clip>/00000.png   Annotations/<clip>/00000.png
    attributes.csv (column `clip`)              attributes.csv (column `clip`)

A mask's name is its frame's 0-based index. Annotation may be sparse (YouTube-VOS masks
every 5th frame): every frame is run, and the frames with a mask are scored. Groups are
groups of clips, so attributes.csv is keyed by clip.

Validation is that of stills: each problem is a `Problem` naming its file and clip, all are
collected before anything runs, and a clip with any problem is left out (with
--skip-invalid) as a whole, since its frames are a sequence a stateful model must see in
order. Only headers are read (imageheader.py, and the video's own header for its size and
frame count), so checking costs far less than inference.

Every file is accounted for, as in the folder layout (folder.py), hidden files aside: a
file of a format fairness-eval does not read in a clip's frame folder or in videos/ is a
problem of that clip (a frame left out would shift the sequence), and so is a mask file of
such a format for a frame that has no other mask. What is clearly no part of the layout
(a file beside the clip folders, a folder inside a clip's, a mask of an unread format
beside a mask of that frame, a mask file named by no frame number) is named in a note.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2

from ..errors import UsageError
from .clip_attributes import read_clip_attributes
from .imageheader import ImageInfo, UnreadableImage, read_image_info
from .samples import (
    IMAGE_EXTENSIONS,
    MASK_EXTENSIONS,
    Dataset,
    Problem,
    Sample,
    unsupported_format,
)

DAVIS, VIDEO_FILES = "davis", "video"
FRAMES_DIR, ANNOTATIONS_DIR, VIDEOS_DIR = "JPEGImages", "Annotations", "videos"
ATTRIBUTES_FILE = "attributes.csv"
# DAVIS ships 480p and Full-Resolution; the benchmark's results are on 480p.
PREFERRED_RESOLUTION = "480p"
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
# Frame numbers are stored as 64-bit integers; 18 digits also hold millisecond timestamps.
MAX_FRAME_DIGITS = 18


@dataclass(frozen=True)
class VideoFrame:
    """One frame of a clip: its 0-based index, its file (DAVIS), its mask if annotated."""

    index: int
    image: Path | None  # None: decoded from the clip's video file
    mask: Path | None  # None: run but not scored


@dataclass(frozen=True)
class VideoClip:
    """One clip: its frames in order, where they come from, and its attribute values."""

    row: int  # 1-based position among the clips, sorted by name
    name: str
    frames: tuple[VideoFrame, ...]
    video: Path | None = None  # the video file (video layout); None: frame files (DAVIS)
    attributes: dict[str, str | None] = field(default_factory=dict)

    @property
    def annotated(self) -> tuple[VideoFrame, ...]:
        """The frames with a mask: the ones that are scored."""
        return tuple(f for f in self.frames if f.mask is not None)

    def files(self) -> list[Path]:
        """Every file the clip reads, in a fixed order (the content key of the clip)."""
        paths = [self.video] if self.video is not None else []
        for frame in self.frames:
            paths.extend(p for p in (frame.image, frame.mask) if p is not None)
        return paths


@dataclass
class VideoDataset(Dataset):
    """A loaded video set. `samples` hold one Sample per valid clip (image: the clip's
    frame folder or video file, mask: its annotation folder) so that attribute selection,
    vocabularies and counts work as for stills; `clips` hold the frames."""

    layout: str = DAVIS
    clips: dict[str, VideoClip] = field(default_factory=dict)

    def clips_to_run(self) -> list[VideoClip]:
        """The valid clips in row order, with their checked (canonical) attribute values."""
        return [VideoClip(s.row, s.image_id, self.clips[s.image_id].frames,
                          self.clips[s.image_id].video, dict(s.attributes))
                for s in sorted(self.samples, key=lambda s: s.row)]

    @property
    def frame_count(self) -> int:
        """Frames of the valid clips (the work a run does)."""
        return sum(len(self.clips[s.image_id].frames) for s in self.samples)


def detect_video_layout(path: Path) -> str | None:
    """"davis" for JPEGImages/<resolution>/<clip>/ beside Annotations/, "video" for a
    videos/ folder, None otherwise (the Pascal VOC devkit also has JPEGImages/ and
    Annotations/, but its JPEGImages/ holds images, not folders of frames)."""
    path = Path(path)
    if not path.is_dir():
        return None
    if (path / VIDEOS_DIR).is_dir():
        return VIDEO_FILES
    frames = path / FRAMES_DIR
    if frames.is_dir() and (path / ANNOTATIONS_DIR).is_dir():
        for resolution in frames.iterdir():
            if resolution.is_dir() and any(p.is_dir() for p in resolution.iterdir()):
                return DAVIS
    return None


def load_video_dataset(root: Path, layout: str | None = None) -> VideoDataset:
    """The clips of a video dataset; problems of frames and masks are listed per clip.

    Raises UsageError when the layout holds no clip at all, and InvalidDataset for
    problems in attributes.csv (its rows are not clips, so they cannot be skipped).
    """
    root = Path(root)
    layout = layout or detect_video_layout(root)
    notes: list[str] = []
    unread: list[Path] = []  # what is no part of the layout: named in a note
    if layout == DAVIS:
        found, problems, frames_root = _davis_clips(root, notes, unread)
    elif layout == VIDEO_FILES:
        found, problems, frames_root = _video_clips(root, unread)
    else:
        raise UsageError(f"--dataset: {root} is not a video dataset (DAVIS JPEGImages/ and "
                         "Annotations/, or videos/)")
    if unread:
        notes.append(_unread_note(root, unread))
    attributes, columns, lines, table_bytes = read_clip_attributes(root / ATTRIBUTES_FILE,
                                                                  set(found))
    clips: dict[str, VideoClip] = {}
    samples = []
    for row, name in enumerate(sorted(found), start=1):
        video, frames, mask_dir = found[name]
        values = {c: attributes.get(name, {}).get(c) for c in columns}
        clips[name] = VideoClip(row, name, frames, video, values)
        samples.append(Sample(row, name, video or frames_root / name, mask_dir, None, {},
                              values))
    # Problems were found before the clips were numbered.
    problems = [replace(p, row=clips[p.image].row) if p.image in clips else p
                for p in problems]
    bad = {p.image for p in problems}
    listing = "\n".join(str(p.relative_to(root)) for c in clips.values() for p in c.files())
    return VideoDataset(
        root=root, name=root.resolve().name, source=root, rows=len(found),
        samples=[s for s in samples if s.image_id not in bad], problems=problems,
        attributes=[], attribute_columns=columns, notes=notes,
        source_sha256=hashlib.sha256(table_bytes + b"\0" + listing.encode()).hexdigest(),
        attribute_file=root / ATTRIBUTES_FILE if table_bytes else None,
        attribute_rows=lines, layout=layout, clips=clips,
    )


def check_video_files(dataset: VideoDataset) -> None:
    """Move each clip with an unusable frame, mask or video to the problems, each file's
    problem on its own line (every problem of every clip is reported at once)."""
    valid = []
    for sample in dataset.samples:
        clip = dataset.clips[sample.image_id]
        reasons = _clip_file_problems(clip)
        dataset.problems.extend(Problem(file, reason, clip.row, clip.name)
                                for file, reason in reasons)
        if not reasons:
            valid.append(sample)
    dataset.samples = valid
    dataset.problems.sort(key=lambda p: (p.row is None, p.row or 0, p.file))


# --------------------------------------------------------------------------- layouts

Found = dict[str, tuple[Path | None, tuple[VideoFrame, ...], Path]]


def _davis_clips(root: Path, notes: list[str], unread: list[Path]
                 ) -> tuple[Found, list[Problem], Path]:
    resolutions = sorted(p.name for p in (root / FRAMES_DIR).iterdir() if p.is_dir())
    annotated = [r for r in resolutions if (root / ANNOTATIONS_DIR / r).is_dir()]
    if not annotated:
        raise UsageError(f"{root / ANNOTATIONS_DIR}: no folder of the frames' resolution "
                         f"({', '.join(resolutions)})")
    resolution = PREFERRED_RESOLUTION if PREFERRED_RESOLUTION in annotated else annotated[0]
    if len(annotated) > 1:
        notes.append(f"{len(annotated)} resolutions ({', '.join(annotated)}): evaluating "
                     f"{resolution}")
    frames_root = root / FRAMES_DIR / resolution
    masks_root = root / ANNOTATIONS_DIR / resolution
    found: Found = {}
    problems: list[Problem] = []
    unread += sorted(p for p in frames_root.iterdir()
                     if not p.is_dir() and not p.name.startswith("."))
    for folder in sorted(p for p in frames_root.iterdir() if p.is_dir()):
        images, bad = _numbered(folder, IMAGE_EXTENSIONS, "frame", folder.name, unread)
        masks, bad_masks = _numbered(masks_root / folder.name, MASK_EXTENSIONS, "mask",
                                     folder.name, unread)
        problems += bad + bad_masks
        problems += [Problem(str(path), f"mask of frame {index}, but there is no frame "
                             f"{index} in {folder}", None, folder.name)
                     for index, path in sorted(masks.items()) if index not in images]
        frames = tuple(VideoFrame(i, images[i], masks.get(i)) for i in sorted(images))
        found[folder.name] = (None, frames, masks_root / folder.name)
        problems += _empty_clip_problems(folder, frames, masks_root / folder.name)
    problems += [Problem(str(p), f"annotations of clip {p.name}, which has no frames in "
                         f"{frames_root}", None, p.name)
                 for p in sorted(masks_root.iterdir()) if p.is_dir() and p.name not in found]
    if not found:
        raise UsageError(f"{frames_root}: no clip folders")
    return found, problems, frames_root


def _video_clips(root: Path, unread: list[Path]) -> tuple[Found, list[Problem], Path]:
    videos_root = root / VIDEOS_DIR
    masks_root = root / ANNOTATIONS_DIR
    found: Found = {}
    problems: list[Problem] = []
    entries = sorted(p for p in videos_root.iterdir() if not p.name.startswith("."))
    unread += [p for p in entries if p.is_dir()]
    videos = [p for p in entries if not p.is_dir() and p.suffix.lower() in VIDEO_EXTENSIONS]
    problems += [Problem(str(p), f"{unsupported_format(p, 'video', VIDEO_EXTENSIONS)}; "
                         f"convert it or move it out of {VIDEOS_DIR}/", None, p.stem)
                 for p in entries if not p.is_dir() and p not in videos]
    for video in videos:
        name = video.stem
        if name in found:
            problems.append(Problem(str(video), "another video file has the same clip name "
                                    f"({name})", None, name))
            continue
        masks, bad = _numbered(masks_root / name, MASK_EXTENSIONS, "mask", name, unread)
        problems += bad
        count, reason = _video_frame_count(video)
        if reason:
            problems.append(Problem(str(video), reason, None, name))
            count = 0
        problems += [Problem(str(path), f"mask of frame {index}, but {video.name} has "
                             f"{count} frames (0 to {count - 1})", None, name)
                     for index, path in sorted(masks.items()) if index >= count and not reason]
        frames = tuple(VideoFrame(i, None, masks.get(i)) for i in range(count))
        found[name] = (video, frames, masks_root / name)
        if not reason:
            problems += _empty_clip_problems(video, frames, masks_root / name)
    if masks_root.is_dir():
        problems += [Problem(str(p), f"annotations of clip {p.name}, which has no video in "
                             f"{videos_root}", None, p.name)
                     for p in sorted(masks_root.iterdir()) if p.is_dir() and p.name not in found]
    if not found:
        raise UsageError(f"{videos_root}: no video files "
                         f"({', '.join(VIDEO_EXTENSIONS)})")
    return found, problems, videos_root


def _numbered(folder: Path, extensions: tuple[str, ...], role: str, clip: str,
              unread: list[Path]) -> tuple[dict[int, Path], list[Problem]]:
    """Files of `folder` by the frame index their name gives (00012.png: 12).

    A frame file of another format is a problem; so is a mask file of another format
    named by a frame number that has no other mask. Folders, and other masks of another
    format, are added to `unread` (a note).
    """
    found: dict[int, Path] = {}
    problems: list[Problem] = []
    if not folder.is_dir():
        return found, problems
    other_masks: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            unread.append(path)
            continue
        if path.suffix.lower() not in extensions:
            if role == "mask":
                other_masks.append(path)
            else:
                problems.append(Problem(str(path), f"{unsupported_format(path, role, extensions)}"
                                        f"; convert it or move it out of {folder.name}/", None,
                                        clip))
            continue
        if not _is_frame_number(path.stem):
            problems.append(Problem(str(path), f"{role} name is not a frame number "
                                    "(expected e.g. 00012" f"{path.suffix})", None, clip))
        elif len(path.stem.lstrip("0")) > MAX_FRAME_DIGITS:
            problems.append(Problem(str(path), f"{role} number has "
                                    f"{len(path.stem.lstrip('0'))} digits; a frame number "
                                    f"has at most {MAX_FRAME_DIGITS}", None, clip))
        elif int(path.stem) in found:
            problems.append(Problem(str(path), f"another {role} has frame number "
                                    f"{int(path.stem)} ({found[int(path.stem)].name})",
                                    None, clip))
        else:
            found[int(path.stem)] = path
    for path in other_masks:
        if (_is_frame_number(path.stem) and len(path.stem.lstrip("0")) <= MAX_FRAME_DIGITS
                and int(path.stem) not in found):
            problems.append(Problem(str(path), f"mask of frame {int(path.stem)}: "
                                    f"{unsupported_format(path, role, extensions)}; convert "
                                    "it", None, clip))
        else:
            unread.append(path)
    return found, problems


def _is_frame_number(stem: str) -> bool:
    # str.isdigit alone admits superscripts and other scripts' digits, which int() refuses
    # or reads as a different number than the name shows.
    return stem.isascii() and stem.isdigit()


def _unread_note(root: Path, paths: list[Path]) -> str:
    """The note naming files and folders that are no part of the layout."""
    names = [str(p.relative_to(root)) for p in paths]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (f"{len(names)} file(s) or folder(s) that are no frame, mask or video of a clip "
            f"were not read ({shown})")


def _empty_clip_problems(source: Path, frames: tuple[VideoFrame, ...], masks: Path
                         ) -> list[Problem]:
    clip = masks.name
    if not frames:
        return [Problem(str(source), "clip has no frames", None, clip)]
    if not any(f.mask is not None for f in frames):
        return [Problem(str(masks), "no mask for any frame of the clip (nothing to score)",
                        None, clip)]
    return []


def _video_frame_count(video: Path) -> tuple[int, str | None]:
    """Frames in a video by its header (counted by decoding when the header has none)."""
    capture = cv2.VideoCapture(str(video))
    try:
        if not capture.isOpened():
            return 0, "cannot be opened as a video (not a video, or a codec OpenCV lacks)"
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if count <= 0:  # some containers do not record it
            while capture.grab():
                count += 1
        return count, None if count > 0 else "video has no frames"
    finally:
        capture.release()


# --------------------------------------------------------------------------- files


def _clip_file_problems(clip: VideoClip) -> list[tuple[str, str]]:
    """(file, reason) for every unusable file of a clip; masks must match the frame size."""
    problems: list[tuple[str, str]] = []
    size = _video_size(clip.video, problems) if clip.video is not None else None
    first: tuple[int, tuple[int, int]] | None = None  # a clip's frames share one size
    for frame in clip.frames:
        if frame.image is not None:
            info = _header(frame.image, "frame", problems)
            size = (info.width, info.height) if info is not None else None
            if size is not None and first is None:
                first = (frame.index, size)
            elif size is not None and first is not None and size != first[1]:
                problems.append((str(frame.image), f"frame {frame.index} is "
                                 f"{size[0]}x{size[1]} but frame {first[0]} of the clip is "
                                 f"{first[1][0]}x{first[1][1]} (a clip's frames must share "
                                 "one size)"))
        if frame.mask is None:
            continue
        mask = _header(frame.mask, "mask", problems)
        if mask is None:
            continue
        if mask.palette:
            problems.append((str(frame.mask), "mask is a palette PNG; save it as 8-bit "
                             "greyscale"))
        elif mask.channels != 1:
            problems.append((str(frame.mask), f"mask has {mask.channels} channels; expected "
                             "a single-channel 8-bit mask"))
        elif mask.bit_depth != 8:
            problems.append((str(frame.mask), f"mask is {mask.bit_depth}-bit; expected 8-bit"))
        elif size is not None and (mask.width, mask.height) != size:
            problems.append((str(frame.mask), f"mask is {mask.width}x{mask.height} but frame "
                             f"{frame.index} is {size[0]}x{size[1]}"))
    return problems


def _video_size(video: Path, problems: list[tuple[str, str]]) -> tuple[int, int] | None:
    capture = cv2.VideoCapture(str(video))
    try:
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    if width <= 0 or height <= 0:
        problems.append((str(video), "video header gives no frame size"))
        return None
    return width, height


def _header(path: Path, role: str, problems: list[tuple[str, str]]) -> ImageInfo | None:
    try:
        return read_image_info(path)
    except FileNotFoundError:
        problems.append((str(path), f"{role} file not found"))
    except UnreadableImage as error:
        problems.append((str(path), f"unreadable {role}: {error}"))
    except OSError as error:
        problems.append((str(path), f"{role}: {error.strerror or error}"))
    return None
