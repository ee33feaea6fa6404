"""The class map of the style code (``model.class_map``; ``ClassMap``; ``infoae class-map``
refits it on a trained run; ``infoae.evaluation.class_map_sweep`` compares variants).

After training, the style codes of training images are grouped by class, and an invertible map
per class y sends that class's codes to one common distribution, so the code's distribution
no longer tells the class. The code a user sees is z' = T_y(z); generating applies the inverse
for the requested label before the generator, z = T_y^-1(z'). A swap therefore places the
source's position within its own class's codes at the same position within the target
class's, and reconstruction is unchanged. The class of an image being encoded is its label
where known, else the content head's prediction.

- "gaussian": iterative Gaussianization per class (Laparra et al. 2011, "Iterative
  Gaussianization: from ICA to random rotations"): each dimension is mapped through its
  class's empirical distribution function to a standard normal (a monotone, piecewise-linear
  map through KNOTS quantiles, extended linearly beyond them), then all dimensions are turned
  by a fixed random rotation; LAYERS times. Every class's codes then follow N(0, I), the
  prior of the variational code, in every marginal and, as the layers repeat, jointly.
- "moments": every class gets the same mean and covariance, z' = m + S^(1/2) C_y^(-1/2)
  (z - mu_y) with C_y the class's covariance and S the pooled within-class one (Li et al.'s
  whitening and colouring transform of 2017, per class). Only the first two moments.

Fitted in closed form on training codes with their true labels and stored in the run directory
(``class_map.npz``, plain arrays; ``style_normaliser.npz`` in older runs). Dimensions that
are constant (pruned) are left as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from infoae.config import Config
    from infoae.data import DigitData

KINDS = ("none", "gaussian", "moments")
LAYERS = 100
KNOTS = 33
RIDGE = 1e-3  # "moments": times the mean variance, keeps each covariance invertible
MIN_CODES_PER_CLASS = 10


class ClassMap:
    """The per-class maps of one kind, for codes of one width; see the module docstring."""

    def __init__(self, kind: str, arrays: dict[str, np.ndarray]):
        self.kind = kind
        self.arrays = {name: np.asarray(value) for name, value in arrays.items()}
        self.active = self.arrays["active"].astype(bool)

    # ------------------------------------------------------------ fitting

    @classmethod
    def fit(cls, codes: np.ndarray, labels: np.ndarray, num_classes: int, kind: str,
            seed: int = 0, layers: int = LAYERS, knots: int = KNOTS,
            align: bool = False) -> "ClassMap":
        """Fit the maps of one kind; layers, knots and align shape the "gaussian" kind only
        (the defaults are the project's; scripts/class_map_sweep.py measures others). align:
        turn each class's Gaussianized codes by the rotation that brings them closest to the
        class's whitened codes (orthogonal Procrustes), so that one direction of the code
        means about the same style in every class; a rotation keeps N(0, I) as it is."""
        codes, labels = np.asarray(codes, np.float64), np.asarray(labels)
        counts = np.bincount(labels, minlength=num_classes)
        if counts.min() < MIN_CODES_PER_CLASS:
            raise ValueError(f"class normalisation needs at least {MIN_CODES_PER_CLASS} codes of "
                             f"every class; classes "
                             f"{np.flatnonzero(counts < MIN_CODES_PER_CLASS)[:10].tolist()} "
                             "have fewer")
        active = codes.std(0) > 1e-8
        x = codes[:, active]
        if kind == "gaussian":
            arrays = _fit_gaussian(x, labels, num_classes, seed, layers, knots)
            if align:
                arrays["align"] = _alignments(x, labels, num_classes, arrays)
        elif kind == "moments":
            arrays = _fit_moments(x, labels, num_classes)
        else:
            raise ValueError(f"class normalisation kind must be one of {KINDS[1:]}, got {kind!r}")
        return cls(kind, {"active": active, **arrays})

    # ------------------------------------------------------------ use

    def forward(self, codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """z' = T_y(z), row by row with each row's class y."""
        return self._apply(codes, labels, inverse=False)

    def inverse(self, codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """z = T_y^-1(z')."""
        return self._apply(codes, labels, inverse=True)

    def _apply(self, codes, labels, inverse: bool) -> np.ndarray:
        codes, labels = np.array(codes, np.float64), np.asarray(labels, np.int64)
        x = codes[:, self.active]
        for label in np.unique(labels):
            rows = labels == label
            if self.kind == "gaussian":
                x[rows] = _gaussian(x[rows], self.arrays, label, inverse)
            else:
                x[rows] = _moments(x[rows], self.arrays, label, inverse)
        codes[:, self.active] = x
        return codes.astype(np.float32)

    # ------------------------------------------------------------ files

    def add_to(self, arrays: dict, prefix: str) -> None:
        """Add this map's arrays to arrays, under prefix (one file holds several)."""
        arrays[f"{prefix}/kind"] = np.array(self.kind)
        arrays.update({f"{prefix}/{name}": value for name, value in self.arrays.items()})

    @classmethod
    def load_all(cls, path: str | Path) -> dict[str, "ClassMap"]:
        """The class_maps saved in one .npz file, by prefix (no pickles are read)."""
        with np.load(path, allow_pickle=False) as content:
            prefixes = sorted({name.split("/")[0] for name in content.files})
            return {p: cls(str(content[f"{p}/kind"]),
                           {name.split("/", 1)[1]: content[name] for name in content.files
                            if name.startswith(p + "/") and not name.endswith("/kind")})
                    for p in prefixes}


def class_maps_bytes(class_maps: dict[str, ClassMap]) -> bytes:
    """The class_maps as the bytes of one .npz file (no pickles)."""
    import io

    arrays: dict[str, np.ndarray] = {}
    for prefix, class_map in class_maps.items():
        class_map.add_to(arrays, prefix)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def save_class_maps(class_maps: dict[str, ClassMap], path: str | Path) -> None:
    """Write the class_maps to one .npz file, atomically."""
    from infoae.atomic import write_bytes

    write_bytes(path, class_maps_bytes(class_maps))


# ---------------------------------------------------------------- Gaussianization

def _rotations(dim: int, layers: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrices = []
    for _ in range(layers):
        q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
        matrices.append(q * np.sign(np.diag(r)))
    return np.stack(matrices)


def _fit_gaussian(x, labels, num_classes, seed, layers: int = LAYERS, count: int = KNOTS) -> dict:
    from scipy.special import ndtri

    if layers < 1 or count < 3:
        raise ValueError(f"the Gaussian map needs >= 1 layer and >= 3 knots, got {layers} "
                         f"and {count}")
    probabilities = (np.arange(count) + 0.5) / count
    levels = ndtri(probabilities)
    rotations = _rotations(x.shape[1], layers, seed)
    knots = np.zeros((num_classes, layers, x.shape[1], count))
    for label in range(num_classes):
        z = x[labels == label]
        for layer in range(layers):
            quantiles = np.quantile(z, probabilities, axis=0).T
            # Strictly increasing knots, so that the map is invertible where values repeat.
            quantiles = np.maximum.accumulate(quantiles + 1e-9 * np.arange(count), axis=1)
            knots[label, layer] = quantiles
            z = _marginals(z, quantiles, levels) @ rotations[layer].T
    return {"knots": knots, "levels": levels, "rotations": rotations}


def _alignments(x, labels, num_classes, arrays) -> np.ndarray:
    """Per class, the rotation R minimising |G_y(z) R - W_y (z - mu_y)| over the class's codes,
    W_y its covariance's inverse square root (ZCA whitening, the whitening that turns the code
    least): orthogonal Procrustes, R = U V^T from the SVD of G_y(z)^T W_y (z - mu_y)."""
    dim = x.shape[1]
    align = np.zeros((num_classes, dim, dim))
    for label in range(num_classes):
        z = x[labels == label]
        centred = z - z.mean(0)
        ridge = RIDGE * max(float(centred.var(0).mean()), 1e-12) * np.eye(dim)
        whitened = centred @ _sqrt_and_inverse_sqrt(
            np.cov(centred, rowvar=False).reshape(dim, dim) + ridge)[1]
        u, _, vt = np.linalg.svd(_gaussian(z, arrays, label, False).T @ whitened)
        align[label] = u @ vt
    return align


def _gaussian(z, arrays, label, inverse: bool):
    knots, levels, rotations = arrays["knots"][label], arrays["levels"], arrays["rotations"]
    align = arrays["align"][label] if "align" in arrays else None
    if not inverse:
        for layer in range(len(rotations)):
            z = _marginals(z, knots[layer], levels) @ rotations[layer].T
        return z if align is None else z @ align
    if align is not None:
        z = z @ align.T
    for layer in reversed(range(len(rotations))):
        z = _marginals(z @ rotations[layer], levels, knots[layer], inverse=True)
    return z


# Beyond the end knots the map continues with the end segment's slope, at most this many
# times the mean slope over all knots: tied codes at a class's extremes (few codes, a nearly
# constant dimension) would otherwise give slopes near 1e9 that overflow after a few layers.
MAX_END_SLOPE = 10.0
# Forward maps land in standard-normal units, clipped here between layers so that a code far
# outside its class's codes stays finite (codes of a class land near N(0, 1): far inside).
MAX_LEVEL = 1000.0


def _interpolate(values, xs, ys, inverse: bool = False):
    """Piecewise-linear through (xs, ys), continued by the end segments' lines. Their slopes
    are at most MAX_END_SLOPE times the mean slope (forward: codes to levels), or, for the
    inverse map (levels to codes), at least the mean slope over MAX_END_SLOPE, so that the
    two stay each other's inverse."""
    out = np.interp(values, xs, ys)
    low, high = values < xs[0], values > xs[-1]
    mean = (ys[-1] - ys[0]) / (xs[-1] - xs[0])
    bound = max if inverse else min
    limit = mean / MAX_END_SLOPE if inverse else mean * MAX_END_SLOPE
    low_slope = bound((ys[1] - ys[0]) / (xs[1] - xs[0]), limit)
    high_slope = bound((ys[-1] - ys[-2]) / (xs[-1] - xs[-2]), limit)
    out[low] = ys[0] + (values[low] - xs[0]) * low_slope
    out[high] = ys[-1] + (values[high] - xs[-1]) * high_slope
    return out


def _marginals(z, a, b, inverse: bool = False):
    """Column d through a[d] -> b (forward: a per dimension, b shared), or b -> a[d]."""
    out = np.empty_like(z)
    for d in range(z.shape[1]):
        out[:, d] = (_interpolate(z[:, d], a, b[d], inverse=True) if inverse
                     else np.clip(_interpolate(z[:, d], a[d], b), -MAX_LEVEL, MAX_LEVEL))
    return out


# ---------------------------------------------------------------- moments

def _sqrt_and_inverse_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    values = np.maximum(values, 1e-12)
    return (vectors * np.sqrt(values)) @ vectors.T, (vectors / np.sqrt(values)) @ vectors.T


def _fit_moments(x, labels, num_classes) -> dict:
    dim = x.shape[1]
    means = np.stack([x[labels == c].mean(0) for c in range(num_classes)])
    centred = x - means[labels]
    ridge = RIDGE * max(float(centred.var(0).mean()), 1e-12) * np.eye(dim)
    pooled_root = _sqrt_and_inverse_sqrt(np.cov(centred, rowvar=False).reshape(dim, dim) + ridge)[0]
    forward = np.stack([pooled_root @ _sqrt_and_inverse_sqrt(
        np.cov(centred[labels == c], rowvar=False).reshape(dim, dim) + ridge)[1]
        for c in range(num_classes)])
    return {"center": x.mean(0), "means": means, "forward": forward,
            "inverse": np.linalg.inv(forward)}


def _moments(z, arrays, label, inverse: bool):
    if not inverse:
        return arrays["center"] + (z - arrays["means"][label]) @ arrays["forward"][label].T
    return arrays["means"][label] + (z - arrays["center"]) @ arrays["inverse"][label].T


# Training codes the class map is fitted on (as many as there are, up to this).
CLASS_MAP_FIT_SIZE = 50000


def class_map_images(config: Config, data: DigitData) -> tuple[slice, str]:
    """Which training images the class map is fitted on: those after the first
    evaluate.probe_train_size (the probes' codes), so that evaluation scores codes the map
    has not seen, as any other probe would; all of them when too few would remain."""
    probes = min(config.evaluate.probe_train_size, len(data.train[1]))
    rest = data.train[1][probes:probes + CLASS_MAP_FIT_SIZE]
    if len(rest) and np.bincount(rest, minlength=data.num_classes).min() >= MIN_CODES_PER_CLASS:
        end = probes + len(rest)
        return slice(probes, end), (f"training images {probes}..{end - 1}, apart from the "
                                    f"{probes} whose codes the leakage probes are fitted on")
    end = min(CLASS_MAP_FIT_SIZE, len(data.train[1]))
    return slice(0, end), f"training images 0..{end - 1} (the probes' codes among them)"
