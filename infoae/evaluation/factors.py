"""Factor-level evaluation of a run: does the style code hold the style factors?

Factors per dataset (METRICS.md "Factor-level"):
- MNIST (and the offline sample): Morpho-MNIST measurements of every image
  (`infoae.evaluation.morphometrics`: area, length, thickness, slant, width, height).
- SynDigits: the recorded factors (font, foreground and background colour, scale, rotation,
  offsets); for generated images, which have no record, a CNN regressor trained here on real
  training images reads colours, scale and rotation.
- SVHN: none (no factor metrics).

Metrics (cores in `infoae.evaluation.disentanglement`), on the first factor_test_size test images
(0: the whole test split); probes and trees are fitted on factor_train_size training images:
- mig, sap, dci over the style code's kept dimensions;
- style_factor_r2: each factor predicted from the style code, and from the content head's
  class probabilities (R^2 for a continuous factor, accuracy for the font);
- swap_factor_error: per swap factor, the mean absolute difference between the factor of the
  style source and of generate(style of source, label j), over swap_factor_sources test
  sources (drawn at random from those test images with evaluate.seed) and all ten labels;
  divided by the same difference for a random real test image of label j (the ratio is about
  1 when the style is not kept, 0 when it is kept exactly).
"""

from __future__ import annotations

import numpy as np

from infoae.data import DigitData, to_float
from infoae.cache import array_digest, cached_array, cached_network
from infoae.evaluation.judge import build_judge, data_fingerprint
from infoae.evaluation.metrics import in_processes, spread_sample
from infoae.model.classifiers import fit_classifier, predict

MORPHOMETRIC_DATASETS = ("mnist", "mnist_sample")
MNIST_SWAP_FACTORS = ("thickness", "slant", "width", "height")
SYNDIGITS_SWAP_FACTORS = ("fg_r", "fg_g", "fg_b", "bg_r", "bg_g", "bg_b", "scale", "rotation")


class FactorSource:
    """The style factors of a dataset: of its real images, and read off generated images."""

    def __init__(self, data: DigitData, seed: int = 0, regressor_epochs: int = 3):
        self.data = data
        if data.name in MORPHOMETRIC_DATASETS:
            from infoae.evaluation.morphometrics import MORPHOMETRICS

            self.names, self.categorical = MORPHOMETRICS, (False,) * len(MORPHOMETRICS)
            self.swap_names = MNIST_SWAP_FACTORS
        elif data.factors:
            from infoae.data.syndigits import CATEGORICAL_FACTORS, STYLE_FACTORS

            self.names = STYLE_FACTORS
            self.categorical = tuple(n in CATEGORICAL_FACTORS for n in STYLE_FACTORS)
            self.swap_names = SYNDIGITS_SWAP_FACTORS
        else:
            raise ValueError(f"dataset {data.name} has no style factors")
        self.seed, self.regressor_epochs = seed, regressor_epochs
        self._regressor = None
        self.regressor_info = None
        # What came from the evaluation cache ("loaded") and what was computed, by entry.
        self.cache_log: dict[str, str] = {}

    @staticmethod
    def available(data: DigitData) -> bool:
        return data.name in MORPHOMETRIC_DATASETS or bool(data.factors)

    def real(self, split: str, count: int) -> np.ndarray:
        """Factors (count, len(names)) of the first count images of a split."""
        if self.data.factors:
            columns = [self.data.factor_names.index(n) for n in self.names]
            return self.data.factors[split][:count][:, columns]
        from infoae.evaluation.morphometrics import VERSION, measure

        images = getattr(self.data, split)[0][:count]
        settings = {"version": VERSION, "images": array_digest(images)}
        factors, how = cached_array("morphometrics", settings, lambda: measure(images))
        self.cache_log[f"morphometrics of {count} real {split} images"] = how
        return factors

    def read_swap_factors(self, images: np.ndarray) -> np.ndarray:
        """Swap factors (N, len(swap_names)) measured on (generated) float images."""
        if not self.data.factors:
            from infoae.evaluation.morphometrics import MORPHOMETRICS, measure

            columns = [MORPHOMETRICS.index(n) for n in self.swap_names]
            return measure(images)[:, columns]
        return self._factor_regressor().predict(images)

    def swap_columns(self) -> list[int]:
        return [self.names.index(n) for n in self.swap_names]

    def _factor_regressor(self):
        if self._regressor is None:
            self._regressor = FactorRegressor(self.data, self.swap_names, self.seed,
                                              self.regressor_epochs)
            self.regressor_info = self._regressor.info
            self.cache_log["factor regressor"] = self._regressor.info["cache"]
        return self._regressor


class FactorRegressor:
    """A CNN that reads recorded factors off images, trained on real training images (kept in
    the evaluation cache, keyed by the training split, the factors, epochs and seed)."""

    VERSION = 1

    def __init__(self, data: DigitData, names, seed: int, epochs: int):
        columns = [data.factor_names.index(n) for n in names]
        targets = data.factors["train"][:, columns]
        self.mean, self.scale = targets.mean(0), np.maximum(targets.std(0), 1e-6)
        build = lambda: build_judge(data.image_shape, len(columns), activation=None,  # noqa: E731
                                    dropout=0.0, name="factor_regressor")
        settings = {"version": self.VERSION, "factors": list(names), "epochs": epochs,
                    "seed": seed, "data": data_fingerprint(data),
                    "targets": array_digest(targets)}

        described = {"architecture": "4 conv (32,32,64,64) + dense 128, MSE on standardised "
                                     "factors, trained on real train images",
                     "epochs": epochs, "factors": list(names)}

        def train():
            standardised = ((targets - self.mean) / self.scale).astype(np.float32)
            network = fit_classifier(build, data.train[0], standardised, epochs, seed, "mse")[0]
            return network, dict(described)  # The entry's info: an empty one is not loaded.

        self.model, _, how, _ = cached_network("factor_regressors", settings, build, train)
        test_targets = data.factors["test"][:, columns]
        predicted = self.predict(to_float(data.test[0]))
        self.info = {**described, "cache": how,
                     "test_mae": np.mean(np.abs(predicted - test_targets), axis=0).tolist()}

    def predict(self, images: np.ndarray) -> np.ndarray:
        return predict(self.model, images) * self.scale + self.mean


def factor_error(generated: np.ndarray, source_factors: np.ndarray, target_labels: np.ndarray,
                 test_factors: np.ndarray, test_labels: np.ndarray, seed: int):
    """Mean absolute error per factor between generated images' factors and their style
    sources' factors; and the same for a random real test image of each target label.

    Returns (mae, random_pair_mae, ratio), one value per factor each.
    """
    rng = np.random.default_rng(seed)
    partners = np.empty(len(target_labels), np.int64)
    for label in np.unique(target_labels):
        where = np.flatnonzero(target_labels == label)
        partners[where] = rng.choice(np.flatnonzero(test_labels == label), len(where))
    mae = np.abs(generated - source_factors).mean(0)
    baseline = np.abs(test_factors[partners] - source_factors).mean(0)
    return mae, baseline, mae / np.maximum(baseline, 1e-12)


def swap_factor_error(run, source: FactorSource, sources: np.ndarray, labels: np.ndarray,
                      source_factors: np.ndarray, test_factors: np.ndarray,
                      test_labels: np.ndarray, seed: int) -> dict:
    """Errors of the swap factors; see the module docstring. sources: images (with their
    labels and factors); test_factors, test_labels: the test images that the random-pair
    baseline draws from."""
    columns = source.swap_columns()
    source_factors = source_factors[:, columns]
    codes = run.encode_style(sources)
    generated = np.concatenate([source.read_swap_factors(swapped)
                                for _, swapped in run.each_label(codes)])
    targets = np.repeat(np.arange(run.num_classes), len(codes))
    swap_mae, baseline_mae, ratio = factor_error(
        generated, np.tile(source_factors, (run.num_classes, 1)), targets, test_factors[:, columns],
        test_labels, seed)
    reconstructed = source.read_swap_factors(run.reconstruct(sources, labels))
    names = source.swap_names
    return {"ratio": float(np.mean(ratio)),
            "per_factor": {n: {"swap_mae": float(s), "random_pair_mae": float(b),
                               "reconstruction_mae": float(r), "ratio": float(q)}
                           for n, s, b, r, q in zip(names, swap_mae, baseline_mae,
                                                    np.abs(reconstructed - source_factors).mean(0),
                                                    ratio)},
            "n_sources": int(len(codes)), "n_swaps": int(run.num_classes * len(codes))}


def factor_metrics(run, data: DigitData, settings) -> dict:
    """Every factor-level metric that applies to the run's dataset (see the module docstring)."""
    from infoae.evaluation import disentanglement as dis

    source = FactorSource(data, settings.seed)
    n_train = min(settings.factor_train_size, len(data.train[1]))
    n_test = settings.factor_test_count(len(data.test[1]))
    train_images, test_images = to_float(data.train[0][:n_train]), to_float(data.test[0][:n_test])
    train_factors, test_factors = source.real("train", n_train), source.real("test", n_test)
    kept = np.flatnonzero(run.model.style_mask)
    train_codes = run.encode_style(train_images)[:, kept]
    test_codes = run.encode_style(test_images)[:, kept]
    categorical = source.categorical
    style_scores, content_scores = in_processes(dis.factor_scores, [
        (train_codes, train_factors, test_codes, test_factors, categorical, settings.seed),
        (run.predict_content(train_images), train_factors, run.predict_content(test_images),
         test_factors, categorical, settings.seed)])
    chosen = spread_sample(n_test, settings.swap_factor_sources, settings.seed)
    report = {
        "factors": list(source.names),
        "categorical": [n for n, c in zip(source.names, categorical) if c],
        "mig": dis.mig(test_codes, test_factors, categorical),
        "sap": dis.sap(train_codes, train_factors, test_codes, test_factors, categorical),
        "dci": dis.dci(train_codes, train_factors, test_codes, test_factors, categorical,
                       settings.seed),
        "style_factor_r2": dict(zip(source.names, style_scores)),
        "content_factor_r2": dict(zip(source.names, content_scores)),
        "swap_factor_error": swap_factor_error(
            run, source, test_images[chosen], data.test[1][chosen], test_factors[chosen],
            test_factors, data.test[1][:n_test], settings.seed),
        "n": {"train": int(n_train), "test": int(n_test)},
        "code_dims": kept.tolist(),
    }
    if source.regressor_info:
        report["swap_factor_error"]["regressor"] = source.regressor_info
    report["evaluation_cache"] = dict(source.cache_log)
    return report


def mean_score(scores: dict, categorical) -> float:
    """Mean R^2 over the continuous factors of a style/content_factor_r2 dict."""
    values = [v for name, v in scores.items() if name not in categorical]
    return float(np.mean(values)) if values else float("nan")
