"""Morpho-MNIST measurements of digit images (Castro et al. 2019), with scikit-image and scipy.

Each image is upsampled x4 (bicubic), binarised at 0.5 and skeletonised. In pixels of the
original image:
- area: ink pixels of the binarised image;
- length: skeleton pixels (one per upsampled pixel of the centre line);
- thickness: 2 x the mean distance transform of the ink on the skeleton (a stroke's width);
- slant: the shear angle from second-order image moments, arctan(-mu_rc / mu_rr), in radians,
  positive when the top of the digit leans right;
- width: the horizontal extent of the shear-corrected ink, and height its vertical extent,
  each between the 2% and 98% quantiles of the ink (2% of the mass dropped per side).

    table = measure(images)   # float32 (N, 6) in the order of MORPHOMETRICS

A batch is upsampled at once (``upsample``: the spline zoom as one matrix on each side) and
each image is thinned on its ink's bounding box; every value is exactly the one-image path's
of scikit-image's ``rescale`` on the whole image (tests/test_factors.py).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

MORPHOMETRICS = ("area", "length", "thickness", "slant", "width", "height")
# Raised whenever a measurement changes, so cached measurements of real images are redone.
VERSION = 1
UPSCALE = 4
THRESHOLD = 0.5
MASS_DROPPED = 0.02


def measure_one(image: np.ndarray) -> np.ndarray:
    """The six measurements of one grey image (H, W) or (H, W, 1) with ink high, in [0, 1]."""
    return _measure_chunk(np.asarray(image)[None])[0]


def upsample(images: np.ndarray) -> np.ndarray:
    """Grey images (N, H, W) float32, each upsampled x UPSCALE exactly as scikit-image's
    `rescale(image, UPSCALE, order=3, mode="constant", anti_aliasing=False)` does (bicubic
    splines on a zero-padded grid, then clipped to the image's own range), for the whole batch
    at once: the spline zoom is linear and separable, so it is one (H*4, H) matrix on each
    side. Float32 as scikit-image's; its values match that function's to about 1e-16, and the
    ink it thresholds is the same."""
    images = np.asarray(images, np.float32)
    rows, cols = _zoom_matrix(images.shape[1]), _zoom_matrix(images.shape[2])
    out = np.matmul(np.matmul(rows, images.astype(np.float64)), cols.T).astype(np.float32)
    return _clipped_like_scikit_image(images, out)


@lru_cache(maxsize=8)
def _zoom_matrix(size: int) -> np.ndarray:
    """The (size * UPSCALE, size) matrix of scipy's order-3 spline zoom on a zero-padded grid
    (scikit-image's mode "constant"): column i is the zoom of the i-th unit vector."""
    from scipy import ndimage

    return np.stack([ndimage.zoom(unit, UPSCALE, order=3, mode="grid-constant", cval=0.0,
                                  grid_mode=True) for unit in np.eye(size)], axis=1)


def _ink_box(ink: np.ndarray) -> tuple[slice, slice]:
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    return (slice(max(rows[0] - 1, 0), min(rows[-1] + 2, ink.shape[0])),
            slice(max(cols[0] - 1, 0), min(cols[-1] + 2, ink.shape[1])))


def _clipped_like_scikit_image(images: np.ndarray, out: np.ndarray) -> np.ndarray:
    """scikit-image's clip after a warp, per image: to the image's [min, max], widened to
    take in the padding value 0 where 0 lies outside that range but inside the output's."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # An image of NaNs alone.
        low, high = np.nanmin(images, axis=(1, 2)), np.nanmax(images, axis=(1, 2))
        out_low, out_high = np.nanmin(out, axis=(1, 2)), np.nanmax(out, axis=(1, 2))
    widen = ~((low <= 0) & (0 <= high)) & (out_low <= 0) & (0 <= out_high)
    low, high = np.where(widen, np.minimum(low, 0), low), np.where(widen, np.maximum(high, 0), high)
    return np.clip(out, low[:, None, None], high[:, None, None], out=out)


def _measure_upsampled(upsampled: np.ndarray) -> np.ndarray:
    """The six measurements of one image upsampled x UPSCALE (see upsample)."""
    from scipy.ndimage import distance_transform_edt
    from skimage.morphology import skeletonize

    ink = upsampled >= THRESHOLD
    if not ink.any():
        return np.zeros(len(MORPHOMETRICS), np.float32)
    # The ink's bounding box and one pixel of background round it (where the image has one):
    # thinning looks at 3x3 neighbourhoods and the nearest background pixel of any ink pixel
    # lies in that box, so both read the same there as on the whole image, in less time.
    box = _ink_box(ink)
    ink = ink[box]
    skeleton = skeletonize(ink)
    distance = distance_transform_edt(ink)
    rows, cols = np.nonzero(ink)
    rows, cols = rows + box[0].start, cols + box[1].start  # Whole-image coordinates.
    row_offset, col_offset = rows - rows.mean(), cols - cols.mean()
    mu_rr, mu_rc = np.mean(row_offset ** 2), np.mean(row_offset * col_offset)
    shear = -mu_rc / mu_rr if mu_rr > 0 else 0.0
    corrected = col_offset + shear * row_offset  # the ink with its slant taken out
    low, high = MASS_DROPPED, 1.0 - MASS_DROPPED
    width = np.quantile(corrected, high) - np.quantile(corrected, low) + 1.0
    height = np.quantile(rows, high) - np.quantile(rows, low) + 1.0
    # On the centre line the distance to the nearest background pixel is half the stroke.
    thickness = 2.0 * np.mean(distance[skeleton]) if skeleton.any() else 0.0
    return np.array([ink.sum() / UPSCALE ** 2, skeleton.sum() / UPSCALE,
                     thickness / UPSCALE, np.arctan(shear), width / UPSCALE, height / UPSCALE],
                    np.float32)


def measure(images, n_jobs: int = -1) -> np.ndarray:
    """Morphometrics (N, 6) of grey images (N, H, W[, 1]) in [0, 1], on all CPU cores."""
    from joblib import Parallel, delayed

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] != 1:
        raise ValueError(f"morphometrics need grey images (N, H, W, 1), got {images.shape}")
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    if len(images) == 0:
        return np.zeros((0, len(MORPHOMETRICS)), np.float32)
    chunks = np.array_split(np.arange(len(images)), max(1, min(len(images) // 200, 64)))
    parts = Parallel(n_jobs=n_jobs)(
        delayed(_measure_chunk)(images[chunk]) for chunk in chunks)
    return np.concatenate(parts).astype(np.float32)


def _measure_chunk(images) -> np.ndarray:
    images = np.asarray(images, np.float32).reshape(images.shape[:3])
    return np.stack([_measure_upsampled(upsampled) for upsampled in upsample(images)])
