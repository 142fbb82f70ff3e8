"""Small real datasets in the formats of data/formats, built in a test's folder from the
shared VOC person set, and the folder layout's masks they must decode to.

The shared set's masks/ and ignore/ were made from its labels/ (VOC palette PNGs): person
(class 15) as 255, void (255) as ignored. Each builder writes the same people in its own
format: COCO instances (one annotation per connected person region, as RLE or polygons)
with the void band as crowd regions, Penn-Fudan instance masks, a VOC devkit folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from fairness_eval.data.formats.cocomask import encode_mask, mask_to_rle_counts

VOC = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "voc2012_person"
PERSON_CATEGORY = {"id": 1, "name": "person", "supercategory": "person"}
OTHER_CATEGORY = {"id": 18, "name": "dog", "supercategory": "animal"}


def sample_stems(count: int) -> list[str]:
    """`count` VOC images: half with several people, half with one, in name order."""
    meta = pd.read_csv(VOC / "meta.csv", dtype={"image": str}).sort_values("image")
    multi = meta[meta["person_components_ge5pct"] >= 2]["image"].tolist()
    single = meta[meta["person_components_ge5pct"] < 2]["image"].tolist()
    return sorted(multi[: count - count // 2] + single[: count // 2])


def folder_masks(stem: str) -> tuple[np.ndarray, np.ndarray]:
    """The folder layout's (mask, ignore) of an image, as 0/255 uint8."""
    mask = cv2.imread(str(VOC / "masks" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
    ignore = cv2.imread(str(VOC / "ignore" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
    return np.where(mask >= 128, 255, 0).astype(np.uint8), np.where(ignore >= 128, 255, 0
                                                                       ).astype(np.uint8)


def person_instances(stem: str) -> np.ndarray:
    """The person mask split into connected regions: 0 background, 1..n (int32)."""
    mask, _ = folder_masks(stem)
    _, labels = cv2.connectedComponents((mask > 0).astype(np.uint8), connectivity=8)
    return labels


def polygons(region: np.ndarray) -> list[list[float]]:
    """The outer outlines of a region as COCO polygons (pixel-centre coordinates)."""
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    return [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]


def coco_document(stems: list[str], style: str) -> dict:
    """A COCO document of the images: `style` "rle" (each person region a compressed RLE,
    alternating with uncompressed counts; the void band an uncompressed crowd RLE),
    or "polygon" (each region's outlines; no crowds)."""
    images, annotations = [], []
    for image_id, stem in enumerate(stems, start=1):
        labels = person_instances(stem)
        height, width = labels.shape
        images.append({"id": image_id, "file_name": f"{stem}.jpg", "width": width,
                       "height": height})
        for instance in range(1, int(labels.max()) + 1):
            region = labels == instance
            if style == "rle":
                segmentation = (encode_mask(region) if instance % 2 else
                                {"size": [height, width], "counts": mask_to_rle_counts(region)})
            else:
                segmentation = polygons(region)
                if not segmentation:
                    continue
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": 1, "iscrowd": 0, "segmentation": segmentation,
                                "area": int(region.sum()), "bbox": [0, 0, width, height]})
        if style == "rle":
            _, ignore = folder_masks(stem)
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": 1, "iscrowd": 1, "area": int((ignore > 0).sum()),
                                "segmentation": {"size": [height, width],
                                                 "counts": mask_to_rle_counts(ignore)},
                                "bbox": [0, 0, width, height]})
        # Another category's region over the whole image must change nothing.
        annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                            "category_id": 18, "iscrowd": 0, "area": width * height,
                            "segmentation": [[0, 0, width, 0, width, height, 0, height]],
                            "bbox": [0, 0, width, height]})
    return {"images": images, "annotations": annotations,
            "categories": [OTHER_CATEGORY, PERSON_CATEGORY]}


def build_coco(folder: Path, stems: list[str], style: str = "rle") -> Path:
    """folder/annotations.json and folder/images/ (copies of the VOC JPEGs)."""
    (folder / "images").mkdir(parents=True)
    for stem in stems:
        shutil.copy(VOC / "images" / f"{stem}.jpg", folder / "images")
    path = folder / "annotations.json"
    path.write_text(json.dumps(coco_document(stems, style)))
    return path


def build_voc(folder: Path, stems: list[str] | None = None) -> Path:
    """A VOC year folder linking to the shared JPEGs and label PNGs (all 300 by default)."""
    stems = stems or sorted(p.stem for p in (VOC / "labels").glob("*.png"))
    for name in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (folder / name).mkdir(parents=True)
    for stem in stems:
        os.symlink(VOC / "images" / f"{stem}.jpg", folder / "JPEGImages" / f"{stem}.jpg")
        os.symlink(VOC / "labels" / f"{stem}.png", folder / "SegmentationClass" / f"{stem}.png")
    return folder


def build_penn_fudan(folder: Path, stems: list[str]) -> Path:
    """PNGImages/<stem>.png and PedMasks/<stem>_mask.png (instances 1..n, 8-bit grey)."""
    (folder / "PNGImages").mkdir(parents=True)
    (folder / "PedMasks").mkdir()
    for stem in stems:
        image = cv2.imread(str(VOC / "images" / f"{stem}.jpg"), cv2.IMREAD_COLOR)
        cv2.imwrite(str(folder / "PNGImages" / f"{stem}.png"), image)
        labels = person_instances(stem)
        assert labels.max() < 256
        cv2.imwrite(str(folder / "PedMasks" / f"{stem}_mask.png"), labels.astype(np.uint8))
    return folder
