"""Images named on the command line: test-split indices and ranges, or image files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from infoae.data import to_float
from infoae.errors import ImageError


def select_images(argument: str, images: np.ndarray, image_shape) -> np.ndarray:
    """Images named on the command line: a test-split index ("3"), a range ("0:8"), or an
    image file (PNG/JPEG via Pillow, or .npy with values in [0, 1])."""
    text = argument.strip()
    if _is_index(text):
        pieces = [int(p) if p else None for p in text.split(":")]
        indices = [pieces[0]] if len(pieces) == 1 else range(len(images))[slice(*pieces)]
        indices = list(indices)
        if not indices or max(indices) >= len(images) or min(indices) < -len(images):
            raise ImageError(f"'{argument}' selects no image of the test split; it has "
                             f"{len(images)} images (indices 0..{len(images) - 1}).")
        return to_float(images[indices])
    return load_image_file(argument, image_shape)[None]


def _is_index(text: str) -> bool:
    pieces = text.split(":")
    return len(pieces) <= 2 and all(p.lstrip("-").isdigit() or p == "" for p in pieces) and any(
        pieces)


def load_image_file(path: str | Path, image_shape) -> np.ndarray:
    """One image (H, W, C) in [0, 1] from a PNG/JPEG file (converted to the dataset's grey or
    RGB) or a .npy file; its height and width must match the dataset's."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"'{path}' is neither a test-split index (e.g. 3 or 0:8) nor an image "
                         "file that exists.")
    height, width, channels = image_shape
    if path.suffix == ".npy":
        image = np.load(path, allow_pickle=False)
        if image.ndim == 2:
            image = image[..., None]
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as opened:
                image = np.asarray(opened.convert("L" if channels == 1 else "RGB"), np.float32)
        except (UnidentifiedImageError, OSError) as error:
            raise ImageError(f"cannot read image '{path}': {error}") from None
        image = (image[..., None] if image.ndim == 2 else image) / 255.0
    if image.shape != (height, width, channels):
        raise ImageError(f"image '{path}' has shape {image.shape}; this dataset's images are "
                         f"{height}x{width} with {channels} channel(s). Resize it first.")
    image = image.astype(np.float32)
    if not np.all(np.isfinite(image)) or image.min() < 0.0 or image.max() > 1.0:
        raise ImageError(f"image '{path}' must hold values in [0, 1].")
    return image
