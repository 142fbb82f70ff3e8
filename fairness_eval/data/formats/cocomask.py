"""COCO segmentations as pixel masks: run-length encodings (RLE) and polygons, in numpy.

Written to give the same pixels as the COCO API (pycocotools' maskApi.c), which the tests
check, without depending on it:
- An RLE counts alternating runs of 0 and 1 over the pixels in column-major order (down
  each column, columns left to right), starting with a run of 0. *Uncompressed*, the
  counts are a list of integers; *compressed*, a string: each count (from the fourth on,
  minus the count two before it) in 5-bit groups, least significant first, each group
  plus 48 as a character with bit 0x20 set when more groups follow.
- A polygon (x1, y1, x2, y2, ...) in pixel coordinates is filled the COCO way: the outline
  is traced on a 5x finer grid, and in each pixel column the pixels from where the outline
  enters to where it leaves are set. Its boundary pixels therefore differ from OpenCV's
  fillPoly; annotations drawn with the COCO tools expect this rasterisation.

Polygons are bounded by the image they belong to before anything is drawn, since tracing
costs memory in proportion to the outline's length: every vertex within one image width
(height) of the image, at most MAX_ANNOTATION_VERTICES vertices per annotation, and an
outline at most MAX_OUTLINE_PERIMETERS times the image's perimeter. A 9 KB file could
otherwise ask for tens of gigabytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# The outline of a polygon is traced at this many steps per pixel (maskApi.c's `scale`).
_POLYGON_SCALE = 5
# Outlines drawn from a real mask have one vertex per boundary pixel (a few thousand for a
# person); tracing costs a Python step per vertex, so this keeps one annotation near 1 s.
MAX_ANNOTATION_VERTICES = 100_000
# A person's outline is a few times the image's perimeter even where it is jagged; each
# traced pixel of outline costs about 0.5 KB while the mask is drawn.
MAX_OUTLINE_PERIMETERS = 32


class SegmentationError(ValueError):
    """A segmentation that cannot be decoded; the message says why."""


def rle_counts_to_mask(counts: Sequence[int], height: int, width: int) -> np.ndarray:
    """Uncompressed RLE counts as a boolean (height, width) mask."""
    runs = np.asarray(counts, dtype=np.int64)
    if runs.ndim != 1 or (runs < 0).any():
        raise SegmentationError("RLE counts must be non-negative integers")
    if int(runs.sum()) != height * width:
        raise SegmentationError(
            f"RLE counts cover {int(runs.sum())} pixels, not {height}x{width} = {height * width}"
        )
    values = np.arange(len(runs)) % 2 == 1  # runs alternate 0, 1, 0, ...
    return np.repeat(values, runs).reshape(width, height).T


def mask_to_rle_counts(mask: np.ndarray) -> list[int]:
    """A 2-D mask (nonzero = set) as uncompressed RLE counts, column-major, 0-run first."""
    flat = (np.asarray(mask) != 0).T.ravel()
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], changes, [flat.size]))
    counts = np.diff(edges).tolist()
    if flat.size and flat[0]:
        counts.insert(0, 0)  # the first run counts zeros, here none
    return counts


def decode_counts_string(text: str) -> list[int]:
    """The counts of a compressed RLE string (COCO's rleFrString)."""
    counts: list[int] = []
    value, shift = 0, 0
    for position, char in enumerate(text):
        code = ord(char) - 48
        if not 0 <= code < 64:
            raise SegmentationError(f"compressed RLE has an invalid character {char!r} at "
                                    f"position {position}")
        value |= (code & 0x1F) << shift
        shift += 5
        if code & 0x20:
            continue
        if code & 0x10:  # the last group's top bit is the sign
            value -= 1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
        value, shift = 0, 0
    if shift:
        raise SegmentationError("compressed RLE ends in the middle of a count")
    return counts


def encode_counts_string(counts: Sequence[int]) -> str:
    """Counts as a compressed RLE string (COCO's rleToString)."""
    chars = []
    for index, count in enumerate(counts):
        value = int(count) - (int(counts[index - 2]) if index > 2 else 0)
        while True:
            group = value & 0x1F
            value >>= 5  # arithmetic shift: negative values end at -1
            more = value != -1 if group & 0x10 else value != 0
            chars.append(chr(group + 48 + (0x20 if more else 0)))
            if not more:
                break
    return "".join(chars)


def encode_mask(mask: np.ndarray) -> dict[str, object]:
    """A mask as a compressed COCO RLE: {"size": [height, width], "counts": str}."""
    height, width = np.asarray(mask).shape
    return {"size": [height, width], "counts": encode_counts_string(mask_to_rle_counts(mask))}


def decode_rle(rle: dict, height: int, width: int) -> np.ndarray:
    """A COCO RLE dict (compressed or uncompressed) as a boolean mask of the image's size."""
    size = rle.get("size")
    if (not isinstance(size, list) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)):
        raise SegmentationError("RLE 'size' must be [height, width]")
    if size != [height, width]:
        raise SegmentationError(f"RLE size {size} is not the image's [{height}, {width}]")
    counts = rle.get("counts")
    if isinstance(counts, str):
        return rle_counts_to_mask(decode_counts_string(counts), height, width)
    if isinstance(counts, list) and all(
            isinstance(c, int) and not isinstance(c, bool) for c in counts):
        return rle_counts_to_mask(counts, height, width)
    raise SegmentationError("RLE 'counts' must be a string or a list of integers")


def polygon_mask(polygon: Sequence[float], height: int, width: int) -> np.ndarray:
    """One COCO polygon [x1, y1, x2, y2, ...] filled as COCO fills it (maskApi.c rleFrPoly)."""
    _check_polygon(list(polygon))
    xy = np.asarray(polygon, dtype=np.float64)
    # C's (int) truncates toward zero; so do these, also for points left of or above 0.
    x = np.trunc(_POLYGON_SCALE * xy[0::2] + 0.5).astype(np.int64)
    y = np.trunc(_POLYGON_SCALE * xy[1::2] + 0.5).astype(np.int64)
    u, v = _trace_outline(np.append(x, x[0]), np.append(y, y[0]))
    # Where the traced outline steps to another fine column, it crosses a pixel column's
    # centre line (if it lands on one): record the pixel row where it crosses.
    step = np.flatnonzero(u[1:] != u[:-1]) + 1
    column = np.where(u[step] < u[step - 1], u[step], u[step] - 1)
    column = (column + 0.5) / _POLYGON_SCALE - 0.5
    keep = (np.floor(column) == column) & (column >= 0) & (column <= width - 1)
    row = (np.minimum(v[step], v[step - 1]) + 0.5) / _POLYGON_SCALE - 0.5
    row = np.ceil(np.clip(row, 0, height))
    crossings = column[keep].astype(np.int64) * height + row[keep].astype(np.int64)
    # Between consecutive crossings (in column-major pixel order) runs alternate 0 and 1.
    edges = np.sort(np.append(crossings, height * width))
    runs = np.diff(edges, prepend=0)
    counts = [int(runs[0])]
    index = 1
    while index < len(runs):
        if runs[index] > 0:
            counts.append(int(runs[index]))
            index += 1
        else:  # two crossings at one pixel cancel: merge the runs around them
            index += 1
            if index < len(runs):
                counts[-1] += int(runs[index])
                index += 1
    return rle_counts_to_mask(counts, height, width)


def _trace_outline(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The closed outline through the (fine-grid) vertices as dense integer points: one
    point per step along the longer axis of each edge, edges in order."""
    us, vs = [], []
    for j in range(len(x) - 1):
        xs, xe, ys, ye = int(x[j]), int(x[j + 1]), int(y[j]), int(y[j + 1])
        dx, dy = abs(xe - xs), abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe, ys, ye = xe, xs, ye, ys
        if dx >= dy:
            t = np.arange(dx + 1)
            t = dx - t if flip else t
            us.append(t + xs)
            if dx == 0:  # a repeated vertex: one point, its row never used
                vs.append(np.full(1, ys))
            else:
                vs.append(np.trunc(ys + (ye - ys) / dx * t + 0.5).astype(np.int64))
        else:
            t = np.arange(dy + 1)
            t = dy - t if flip else t
            vs.append(t + ys)
            us.append(np.trunc(xs + (xe - xs) / dy * t + 0.5).astype(np.int64))
    return np.concatenate(us), np.concatenate(vs)


def check_segmentation(segmentation: object, height: int, width: int) -> None:
    """Raise SegmentationError unless `segmentation` decodes at this size (without drawing
    it: polygons are checked for shape, RLE counts for covering the image exactly)."""
    if isinstance(segmentation, dict):
        size = segmentation.get("size")
        if size != [height, width]:
            raise SegmentationError(f"RLE size {size} is not the image's [{height}, {width}]")
        counts = segmentation.get("counts")
        if isinstance(counts, str):
            counts = decode_counts_string(counts)
        elif not (isinstance(counts, list) and all(
                isinstance(c, int) and not isinstance(c, bool) for c in counts)):
            raise SegmentationError("RLE 'counts' must be a string or a list of integers")
        _check_counts(counts, height, width)
        return
    if not isinstance(segmentation, list) or not segmentation:
        raise SegmentationError("segmentation must be a non-empty list of polygons or an "
                                "RLE dict")
    for polygon in segmentation:
        _check_polygon(polygon)
    _check_extent(segmentation, height, width)


def _check_counts(counts: Sequence[int], height: int, width: int) -> None:
    negative = next((c for c in counts if c < 0), None)
    if negative is not None:
        raise SegmentationError(f"RLE counts must be non-negative, not {negative}")
    if sum(counts) != height * width:
        raise SegmentationError(f"RLE counts cover {sum(counts)} pixels, not "
                                f"{height}x{width} = {height * width}")


def _check_extent(polygons: list[list[float]], height: int, width: int) -> None:
    """Refuse polygons whose tracing would cost more than the image justifies: checked on
    the vertices alone, before any array the size of the outline exists."""
    vertices = sum(len(polygon) // 2 for polygon in polygons)
    if vertices > MAX_ANNOTATION_VERTICES:
        raise SegmentationError(f"{vertices:,} polygon vertices, above the limit of "
                                f"{MAX_ANNOTATION_VERTICES:,} per annotation")
    outline = 0.0
    for polygon in polygons:
        xy = np.asarray(polygon, dtype=np.float64)
        x, y = xy[0::2], xy[1::2]
        outside = (x < -width) | (x > 2 * width) | (y < -height) | (y > 2 * height)
        if outside.any():
            at = int(np.argmax(outside))
            raise SegmentationError(
                f"polygon vertex ({x[at]:g}, {y[at]:g}) lies more than the image's size "
                f"outside the {width}x{height} image")
        # The tracer steps once per fine-grid unit along each edge's longer axis.
        outline += float(np.maximum(np.abs(np.diff(x, append=x[0])),
                                    np.abs(np.diff(y, append=y[0]))).sum())
    limit = MAX_OUTLINE_PERIMETERS * 2 * (width + height)
    if outline > limit:
        raise SegmentationError(f"polygon outlines {outline:,.0f} pixels long, above the limit "
                                f"of {limit:,} ({MAX_OUTLINE_PERIMETERS} times the "
                                f"{width}x{height} image's perimeter)")


def _check_polygon(polygon: object) -> None:
    if not isinstance(polygon, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in polygon):
        raise SegmentationError("a polygon must be a list of numbers")
    if len(polygon) < 6 or len(polygon) % 2:
        raise SegmentationError(f"a polygon needs an even number (>= 6) of coordinates, "
                                f"not {len(polygon)}")
    if not all(math.isfinite(v) for v in polygon):
        raise SegmentationError("polygon coordinates must be finite numbers")


def segmentation_mask(segmentation: object, height: int, width: int) -> np.ndarray:
    """A COCO annotation's `segmentation` (a list of polygons, or an RLE dict) as a mask."""
    if isinstance(segmentation, dict):
        return decode_rle(segmentation, height, width)
    if isinstance(segmentation, list) and segmentation:
        check_segmentation(segmentation, height, width)
        mask = np.zeros((height, width), dtype=bool)
        for polygon in segmentation:
            mask |= polygon_mask(polygon, height, width)
        return mask
    raise SegmentationError("segmentation must be a non-empty list of polygons or an RLE dict")


__all__ = [
    "MAX_ANNOTATION_VERTICES", "MAX_OUTLINE_PERIMETERS", "SegmentationError",
    "check_segmentation", "decode_counts_string", "decode_rle",
    "encode_counts_string", "encode_mask", "mask_to_rle_counts", "polygon_mask",
    "rle_counts_to_mask", "segmentation_mask",
]
