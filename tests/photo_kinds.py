"""Photos of real test digits in the six kinds a user brings (tests/test_photos.py and
scripts/photo_check.py): each kind is a picture of one 28 x 28 digit, drawn large."""

from pathlib import Path

import numpy as np
from PIL import Image

KINDS = ("black_on_white", "white_on_black", "blue_on_yellow", "pencil_uneven", "jpeg_exif",
         "png16")


def _large(digit: np.ndarray, size: int) -> np.ndarray:
    """The digit's ink (0..1) drawn size x size on a 200 x 200 sheet with a margin."""
    ink = np.zeros((200, 200), np.float32)
    margin = (200 - size) // 2
    ink[margin:margin + size, margin:margin + size] = np.asarray(
        Image.fromarray(digit).resize((size, size), Image.BICUBIC), np.float32) / 255
    return ink


def photo(kind: str, digit: np.ndarray, directory: Path, seed: int = 0) -> Path:
    """Write a picture of the digit (uint8, 28 x 28) of one kind; returns its path.

    black_on_white: black ink on clean white paper (PNG); white_on_black: the reverse;
    blue_on_yellow: blue ink on yellow paper (RGB PNG); pencil_uneven: faint grey strokes on
    paper lit unevenly from one side, with grain; jpeg_exif: a phone JPEG stored on its side
    with an EXIF tag that turns it upright; png16: a 16-bit grey PNG whose values all lie
    above 8 bits' range (Pillow's convert("L") clips it to white)."""
    rng = np.random.default_rng(seed)
    ink = _large(digit, 160)
    path = Path(directory) / f"{kind}{'.jpg' if kind == 'jpeg_exif' else '.png'}"
    if kind == "black_on_white":
        Image.fromarray((255 * (1 - ink)).astype(np.uint8)).save(path)
    elif kind == "white_on_black":
        Image.fromarray((255 * ink).astype(np.uint8)).save(path)
    elif kind == "blue_on_yellow":
        yellow, blue = np.array([250, 220, 40]), np.array([30, 40, 200])
        rgb = yellow * (1 - ink[..., None]) + blue * ink[..., None]
        Image.fromarray(rgb.astype(np.uint8)).save(path)
    elif kind == "pencil_uneven":
        paper = np.linspace(150, 240, 200)[None, :] * np.linspace(0.85, 1.0, 200)[:, None]
        picture = paper + rng.normal(0, 5, paper.shape) - 70 * ink
        Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(path)
    elif kind == "jpeg_exif":
        picture = 220 + rng.normal(0, 6, (200, 200)) - 160 * ink
        image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).convert("RGB")
        exif = Image.Exif()
        exif[0x0112] = 6  # Stored turned left; viewers turn it back.
        image.rotate(90, expand=True).save(path, exif=exif, quality=85)
    elif kind == "png16":
        Image.fromarray((60000 - 40000 * ink).astype(np.uint16)).save(path)
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return path
