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
"""

from __future__ import annotations

import numpy as np

MORPHOMETRICS = ("area", "length", "thickness", "slant", "width", "height")
# Raised whenever a measurement changes, so cached measurements of real images are redone.
VERSION = 1
UPSCALE = 4
THRESHOLD = 0.5
MASS_DROPPED = 0.02


def measure_one(image: np.ndarray) -> np.ndarray:
    """The six measurements of one grey image (H, W) or (H, W, 1) with ink high, in [0, 1]."""
    from scipy.ndimage import distance_transform_edt
    from skimage.morphology import skeletonize
    from skimage.transform import rescale

    image = np.asarray(image, np.float32).reshape(image.shape[0], image.shape[1])
    upsampled = rescale(image, UPSCALE, order=3, mode="constant", anti_aliasing=False)
    ink = upsampled >= THRESHOLD
    if not ink.any():
        return np.zeros(len(MORPHOMETRICS), np.float32)
    skeleton = skeletonize(ink)
    distance = distance_transform_edt(ink)
    rows, cols = np.nonzero(ink)
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
    return np.stack([measure_one(image) for image in images])
