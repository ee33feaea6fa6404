"""Images named on the command line: test-split indices and ranges, or image files."""

from __future__ import annotations

from contextlib import contextmanager
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


# The largest image file read (pixels); a larger one is refused before it is decoded.
MAX_IMAGE_PIXELS = 4096 * 4096


def load_image_file(path: str | Path, image_shape) -> np.ndarray:
    """One image (H, W, C) in [0, 1] from a PNG/JPEG file (8- or 16-bit, converted to the
    dataset's grey or RGB) or a .npy file of real numbers. A picture of the dataset's size is
    taken as it is; one of any other size is a photo, prepared as `prepare_photo` (and `swap
    --style`) prepare it; a .npy array must have the dataset's shape."""
    path = Path(path)
    if not path.is_file():
        what = "a regular image file" if path.exists() else "an image file that exists"
        raise ImageError(f"'{path}' is neither a test-split index (e.g. 3 or 0:8) nor {what}.")
    height, width, channels = image_shape
    image = _read_npy(path) if path.suffix == ".npy" else _read_picture(path, channels)
    if image.shape != (height, width, channels) and path.suffix != ".npy":
        return prepare_photo(path, image_shape)  # A photo: prepared as `swap --style` does.
    if image.shape != (height, width, channels):
        raise ImageError(f"image '{path}' has shape {image.shape}; this dataset's images are "
                         f"{height}x{width} with {channels} channel(s). Resize it first.")
    image = image.astype(np.float32)
    if not np.all(np.isfinite(image)) or image.min() < 0.0 or image.max() > 1.0:
        raise ImageError(f"image '{path}' must hold values in [0, 1].")
    return image


def _read_npy(path: Path) -> np.ndarray:
    try:
        image = np.load(path, mmap_mode="r", allow_pickle=False)  # Header first: no bomb.
    except (ValueError, OSError, EOFError) as error:
        raise ImageError(f"cannot read '{path}' as a NumPy array ({error}).") from None
    if not isinstance(image, np.ndarray) or image.size > MAX_IMAGE_PIXELS * 4:
        raise ImageError(f"'{path}' must hold one image array of at most {MAX_IMAGE_PIXELS} "
                         "pixels.")
    if not (np.issubdtype(image.dtype, np.floating) or np.issubdtype(image.dtype, np.integer)
            or image.dtype == bool):
        raise ImageError(f"'{path}' holds {image.dtype} values; an image holds real numbers "
                         "in [0, 1].")
    image = np.array(image, np.float64)
    return image[..., None] if image.ndim == 2 else image


@contextmanager
def _opened(path: Path):
    """The image file opened with Pillow, its size checked against MAX_IMAGE_PIXELS before
    anything is decoded; ImageError for files that are too large or not images."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            if opened.size[0] * opened.size[1] > MAX_IMAGE_PIXELS:
                raise ImageError(f"image '{path}' ({opened.size[0]}x{opened.size[1]}) is larger "
                                 f"than {MAX_IMAGE_PIXELS} pixels; resize it first.")
            yield opened
    except Image.DecompressionBombError:
        raise ImageError(f"image '{path}' is larger than {MAX_IMAGE_PIXELS} pixels; resize it "
                         "first.") from None
    except (UnidentifiedImageError, OSError) as error:
        raise ImageError(f"cannot read image '{path}': {error}") from None


def _read_picture(path: Path, channels: int) -> np.ndarray:
    with _opened(path) as opened:
        if channels == 1 or _sixteen_bit(opened):
            image = np.repeat(_grey(opened)[..., None], channels, axis=-1)
        else:
            image = np.asarray(opened.convert("RGB"), np.float64) / 255.0
    return image


# MNIST's preparation: the digit scaled into a BOX x BOX square (aspect kept), then centred by
# its centre of mass in the 28 x 28 image (LeCun et al.'s description of the data set).
MNIST_BOX = 20
# How many times the paper grain's median top-hat is taken away as noise (prepare_photo).
NOISE_FLOOR = 2.0
# Photos are brought to at most this many pixels on their longer side before the ink is found.
WORKING_SIZE = 256


def prepare_photo(path: str | Path, image_shape) -> np.ndarray:
    """A photo or scan of one digit, of any size (up to MAX_IMAGE_PIXELS) and colour, prepared
    the way the dataset was: EXIF rotation applied; for grey datasets the ink found (darker or
    lighter than the paper), made light on black, cropped, scaled into the 20 x 20 box and
    centred by mass as MNIST was; for colour datasets resized whole. (H, W, C) in [0, 1]."""
    from PIL import Image, ImageOps

    path = Path(path)
    if not path.is_file():
        what = "is not a regular file" if path.exists() else "does not exist"
        raise ImageError(f"'{path}' {what}; give PNG or JPEG files of digits.")
    height, width, channels = image_shape
    with _opened(path) as opened:
        upright = ImageOps.exif_transpose(opened)
        if channels == 3:
            resized = upright.convert("RGB").resize((width, height), Image.LANCZOS)
            return np.asarray(resized, np.float32) / 255.0
        grey = np.clip(_grey(upright), 0.0, 1.0).astype(np.float32)
    return _mnist_like(grey, height, width, path)


def _sixteen_bit(image) -> bool:
    return image.mode.startswith("I;16") or image.mode == "I"


def _grey(image) -> np.ndarray:
    """A Pillow image as grey values, 1.0 for white: 16-bit grey on its full range (Pillow's
    convert("L") would clip it to 8 bits; a 32-bit "I" image may exceed 1), anything else
    through Pillow's luminance."""
    if _sixteen_bit(image):
        return np.asarray(image, np.float64) / 65535.0
    return np.asarray(image.convert("L"), np.float64) / 255.0


def _strokes(grey: np.ndarray) -> np.ndarray:
    """The light structures narrower than the opening (the white top-hat): the strokes of
    light ink, with the paper, uneven light included, taken away."""
    from scipy import ndimage

    paper = ndimage.grey_opening(grey, size=(max(9, max(grey.shape) // 8),) * 2)
    return grey - paper


def _mnist_like(grey: np.ndarray, height: int, width: int, path: Path) -> np.ndarray:
    from PIL import Image

    if max(grey.shape) > WORKING_SIZE:  # Strokes and paper are found at a working size.
        scale = WORKING_SIZE / max(grey.shape)
        size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
        grey = np.asarray(Image.fromarray((grey * 255).astype(np.uint8)).resize(
            size, Image.LANCZOS), np.float32) / 255.0
    # The ink is decided from the whole image, not from its border: strokes are what is
    # narrower than the opening, so the polarity whose narrow structures hold more contrast
    # is ink on paper (dark ink on white gives nothing narrow in its light part but the
    # pockets inside loops; light ink on dark gives the whole digit).
    light, dark = _strokes(grey), _strokes(1.0 - grey)
    strokes = dark if dark.sum() > light.sum() else light
    ink = np.percentile(strokes, 99.5)
    if ink < 0.1:
        raise ImageError(f"image '{path}' shows no digit: its ink and paper differ by less "
                         "than 10% of the range.")
    # The paper's grain: the top-hat of paper noise is small and positive everywhere, and the
    # paper is most of the picture, so its median is the grain's level; NOISE_FLOOR times it
    # is taken away, as MNIST's background is clean black.
    floor = min(NOISE_FLOOR * float(np.median(strokes)), 0.5 * ink)
    strokes = np.clip((strokes - floor) / (ink - floor), 0.0, 1.0)
    rows, cols = np.nonzero(strokes > 0.3)
    strokes = strokes[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    box = round(MNIST_BOX * min(height, width) / 28)
    scale = box / max(strokes.shape)
    size = (max(1, round(strokes.shape[1] * scale)), max(1, round(strokes.shape[0] * scale)))
    digit = np.asarray(Image.fromarray((strokes * 255).astype(np.uint8)).resize(
        size, Image.LANCZOS), np.float32) / 255.0
    canvas = np.zeros((height, width), np.float32)
    total = digit.sum()
    centre_y = (digit.sum(1) @ np.arange(digit.shape[0])) / total
    centre_x = (digit.sum(0) @ np.arange(digit.shape[1])) / total
    top = int(np.clip(round(height / 2 - centre_y), 0, height - digit.shape[0]))
    left = int(np.clip(round(width / 2 - centre_x), 0, width - digit.shape[1]))
    canvas[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return np.clip(canvas, 0.0, 1.0)[..., None]
