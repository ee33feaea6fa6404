"""SynDigits: SVHN-like 32x32 colour digits with known style factors, rendered from a seed.

Every image is one digit (the label) drawn with a font that matplotlib ships, in a foreground
colour on a background colour, scaled, rotated and shifted, with SVHN's nuisances: neighbouring
digits of the same house number cut at the left and right edges, blur and pixel noise. The
factors of every image are recorded, so evaluation can ask whether the style code holds them.

    images, labels, factors = render(60000, seed=0)   # uint8 (N, 32, 32, 3), int64, float32 (N, K)

Glyphs are rasterised once per font (Pillow, from matplotlib's TTF files) into a small atlas;
each image is then a few bilinear lookups into that atlas, vectorised over the batch, so
60,000 images take seconds (measured in docs/usage.md). The same seed gives the same images on
any machine with the same fonts (matplotlib's own files) and Pillow's rasteriser.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

IMAGE_SIZE = 32
# Families, weights and slants: sans, mono, serif, STIX and Computer Modern.
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
         "DejaVuSans-BoldOblique.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
         "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "STIXGeneral.ttf",
         "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "cmr10.ttf", "cmb10.ttf", "cmss10.ttf",
         "cmtt10.ttf")
# Recorded factors, in column order. font is categorical; the others are continuous.
FACTOR_NAMES = ("font", "fg_r", "fg_g", "fg_b", "bg_r", "bg_g", "bg_b", "scale", "rotation",
                "dx", "dy", "neighbour_left", "neighbour_right", "blur", "noise")
COLUMN = {name: i for i, name in enumerate(FACTOR_NAMES)}
# The style factors evaluation asks the style code for (the nuisances are left out).
STYLE_FACTORS = ("font", "fg_r", "fg_g", "fg_b", "bg_r", "bg_g", "bg_b", "scale", "rotation",
                 "dx", "dy")
CATEGORICAL_FACTORS = ("font",)
# Ranges of the continuous factors (uniform within them).
RANGES = {"scale": (0.65, 1.05),       # digit height = scale * 24 px of the 32
          "rotation": (-15.0, 15.0),   # degrees, counter-clockwise
          "dx": (-2.5, 2.5), "dy": (-2.0, 2.0),  # pixels
          "blur": (0.0, 1.0),          # Gaussian sigma in pixels
          "noise": (0.0, 0.04)}        # Gaussian pixel noise sigma (pixels in [0, 1])
NEIGHBOUR_PROBABILITY = 0.6            # each side independently
MIN_CONTRAST = 0.3                     # |luminance(fg) - luminance(bg)|
GLYPH_HEIGHT = 28                      # ink height of every digit in the atlas, pixels
ATLAS_SIZE = 48
DIGIT_HEIGHT = 24.0                    # output ink height at scale 1
BLOCK = 2048                           # images drawn from one random stream


def font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _rasterise(font_path: Path, digit: int) -> np.ndarray:
    """One glyph as a float mask, its ink box scaled to GLYPH_HEIGHT and centred in the atlas."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), 96)
    canvas = Image.new("L", (160, 160), 0)
    ImageDraw.Draw(canvas).text((30, 10), str(digit), fill=255, font=font)
    ink = np.asarray(canvas, np.float32) / 255.0
    rows, cols = np.flatnonzero(ink.max(1) > 0.1), np.flatnonzero(ink.max(0) > 0.1)
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height = GLYPH_HEIGHT
    width = max(1, min(ATLAS_SIZE - 2, round(ink.shape[1] * height / ink.shape[0])))
    glyph = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize(
        (width, height), Image.Resampling.LANCZOS), np.float32) / 255.0
    atlas = np.zeros((ATLAS_SIZE, ATLAS_SIZE), np.float32)
    top, left = (ATLAS_SIZE - height) // 2, (ATLAS_SIZE - width) // 2
    atlas[top:top + height, left:left + width] = glyph
    return atlas


@lru_cache(maxsize=1)
def glyph_atlas() -> tuple[np.ndarray, np.ndarray]:
    """(masks (fonts, 10, ATLAS_SIZE, ATLAS_SIZE) in [0, 1], ink widths (fonts, 10) in pixels)."""
    directory = font_dir()
    missing = [name for name in FONTS if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"SynDigits needs matplotlib's fonts; missing {missing} in "
                                f"{directory}. Reinstall matplotlib.")
    masks = np.stack([np.stack([_rasterise(directory / name, d) for d in range(10)])
                      for name in FONTS])
    widths = (masks.max(axis=2) > 0.1).sum(axis=2).astype(np.float32)
    return masks, widths


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _colours(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background colours in [0, 1]^3 with enough luminance contrast."""
    foreground = rng.random((n, 3), dtype=np.float32)
    background = rng.random((n, 3), dtype=np.float32)
    low = np.abs(luminance(foreground) - luminance(background)) < MIN_CONTRAST
    while low.any():
        foreground[low] = rng.random((int(low.sum()), 3), dtype=np.float32)
        low = np.abs(luminance(foreground) - luminance(background)) < MIN_CONTRAST
    return foreground, background


def sample_factors(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, factors (n, len(FACTOR_NAMES)) float32, neighbour digits (n, 2))."""
    labels = rng.integers(0, 10, n)
    font = rng.integers(0, len(FONTS), n)
    foreground, background = _colours(rng, n)
    continuous = {name: rng.uniform(*RANGES[name], n) for name in RANGES}
    neighbours = rng.random((n, 2)) < NEIGHBOUR_PROBABILITY
    neighbour_digits = rng.integers(0, 10, (n, 2))
    factors = np.column_stack([
        font, foreground, background, continuous["scale"], continuous["rotation"],
        continuous["dx"], continuous["dy"], neighbours[:, 0], neighbours[:, 1],
        continuous["blur"], continuous["noise"]]).astype(np.float32)
    return labels.astype(np.int64), factors, neighbour_digits


def _sample_glyph(flat_masks, glyph, x, y):
    """Bilinear lookup of glyph number `glyph` (font * 10 + digit) of the flattened atlas at
    float atlas coordinates (x, y). Coordinates are clipped into the atlas, whose outermost
    rows and columns are empty, so everything outside reads 0."""
    x = np.clip(x, 0.0, ATLAS_SIZE - 1.001)
    y = np.clip(y, 0.0, ATLAS_SIZE - 1.001)
    x0, y0 = x.astype(np.int64), y.astype(np.int64)
    fx, fy = (x - x0).astype(np.float32), (y - y0).astype(np.float32)
    base = glyph[:, None, None] * (ATLAS_SIZE * ATLAS_SIZE) + y0 * ATLAS_SIZE + x0
    top = flat_masks.take(base) * (1.0 - fx) + flat_masks.take(base + 1) * fx
    bottom = (flat_masks.take(base + ATLAS_SIZE) * (1.0 - fx)
              + flat_masks.take(base + ATLAS_SIZE + 1) * fx)
    return top * (1.0 - fy) + bottom * fy


def _ink(labels, factors, neighbour_digits) -> np.ndarray:
    """Ink coverage (n, 32, 32) of the centre digit and its neighbours."""
    masks, widths = glyph_atlas()
    font = factors[:, COLUMN["font"]].astype(np.int64)
    zoom = factors[:, COLUMN["scale"]] * DIGIT_HEIGHT / GLYPH_HEIGHT  # output px per atlas px
    angle = np.deg2rad(factors[:, COLUMN["rotation"]])
    centre = (IMAGE_SIZE - 1) / 2.0
    grid = np.arange(IMAGE_SIZE, dtype=np.float32) - centre
    # Output pixel offsets from the digit centre, rotated back and scaled into atlas pixels.
    u = grid[None, None, :] - factors[:, COLUMN["dx"], None, None]
    v = grid[None, :, None] - factors[:, COLUMN["dy"], None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    zoom = zoom[:, None, None]
    atlas_x = (cos * u - sin * v) / zoom   # counter-clockwise rotation of the digit
    atlas_y = (sin * u + cos * v) / zoom
    atlas_centre = (ATLAS_SIZE - 1) / 2.0
    flat_masks = masks.reshape(-1)
    ink = _sample_glyph(flat_masks, font * 10 + labels, atlas_x + atlas_centre,
                        atlas_y + atlas_centre)
    gap = 0.18 * GLYPH_HEIGHT
    for side, sign in ((0, -1.0), (1, 1.0)):
        present = factors[:, COLUMN[f"neighbour_{'left' if side == 0 else 'right'}"]] > 0.5
        digit = neighbour_digits[:, side]
        shift = (widths[font, labels] + widths[font, digit]) / 2.0 + gap
        neighbour = _sample_glyph(flat_masks, font * 10 + digit, atlas_x - sign
                                  * shift[:, None, None] + atlas_centre, atlas_y + atlas_centre)
        ink = np.maximum(ink, neighbour * present[:, None, None])
    return ink


def _blur_and_noise(images, factors, rng) -> np.ndarray:
    """Per-image Gaussian blur (separable, as two batched matrix products) and pixel noise."""
    sigma = np.maximum(factors[:, COLUMN["blur"]], 1e-3)[:, None, None]
    grid = np.arange(IMAGE_SIZE, dtype=np.float32)
    kernel = np.exp(-(grid[None, :, None] - grid[None, None, :]) ** 2 / (2.0 * sigma ** 2))
    kernel /= kernel.sum(axis=2, keepdims=True)  # Rows sum to 1, edges included.
    n = len(images)
    rows = np.matmul(kernel, images.reshape(n, IMAGE_SIZE, IMAGE_SIZE * 3))
    blurred = np.matmul(kernel, rows.reshape(n, IMAGE_SIZE, IMAGE_SIZE, 3).transpose(0, 2, 1, 3)
                        .reshape(n, IMAGE_SIZE, IMAGE_SIZE * 3))
    blurred = blurred.reshape(n, IMAGE_SIZE, IMAGE_SIZE, 3).transpose(0, 2, 1, 3)
    noise = rng.standard_normal(images.shape, dtype=np.float32)
    return blurred + noise * factors[:, COLUMN["noise"], None, None, None]


def render(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n SynDigits images: (uint8 (n, 32, 32, 3), labels int64 (n,), factors float32 (n, K)).

    Deterministic in seed, block by block: render(n, s) is the first n images of render(m, s)
    for any m >= n.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    labels = np.empty(n, np.int64)
    factors = np.empty((n, len(FACTOR_NAMES)), np.float32)
    for block, start in enumerate(range(0, n, BLOCK)):
        part = slice(start, min(start + BLOCK, n))
        size = part.stop - part.start
        block_labels, block_factors, neighbour_digits = sample_factors(
            np.random.default_rng([seed, block]), BLOCK)
        labels[part], factors[part] = block_labels[:size], block_factors[:size]
        ink = _ink(labels[part], factors[part], neighbour_digits[:size])[..., None]
        foreground = factors[part, COLUMN["fg_r"]:COLUMN["fg_b"] + 1][:, None, None, :]
        background = factors[part, COLUMN["bg_r"]:COLUMN["bg_b"] + 1][:, None, None, :]
        picture = background * (1.0 - ink) + foreground * ink
        picture = _blur_and_noise(picture.astype(np.float32), factors[part],
                                  np.random.default_rng([seed, block, 1]))
        images[part] = np.round(np.clip(picture, 0.0, 1.0) * 255.0).astype(np.uint8)
    return images, labels, factors


def load_syndigits(train_size: int, test_size: int, seed: int = 0):
    """((train_images, train_labels, train_factors), (test_...)) from disjoint seed streams."""
    train = render(train_size, seed=seed * 2)
    test = render(test_size, seed=seed * 2 + 1)
    return train, test
