"""The most of a style factor that a style code without the class can hold.

`style_factor_r2` scores how well the evaluation's regressors predict each real factor (slant,
thickness, ..., or SynDigits' scale and colours) from the style code. A code that leaks no
class can only hold where an image lies among the images *of its own class*; the part of a
factor that the class explains (a 1 slants differently from a 7) is out of its reach. This
module measures that ceiling with an oracle code built from the real factors: for each named
factor, the image's rank among the training images of its class, as a normal score. Probed
with the evaluation's own regressors and leakage probe, it says what R^2 a class-free code can
reach and how class-free the oracle is (one factor's within-class ranks leak nothing; several
factors' joint ranks can, since their dependence differs between classes). A "class alone"
row gives the share of each factor that the class explains. Used by scripts/factor_ceiling.py.
"""

from __future__ import annotations

import numpy as np

from infoae.data import DigitData
from infoae.tables import markdown_table


def within_class_scores(values, labels, reference, reference_labels) -> np.ndarray:
    """Normal scores of values (N, F) by their rank among reference's rows of the same label
    (ties and values outside the reference's range clipped to half a rank from the ends)."""
    from scipy.stats import norm

    values, reference = np.asarray(values, float), np.asarray(reference, float)
    scores = np.zeros_like(values)
    for label in np.unique(labels):
        ref = np.sort(reference[reference_labels == label], axis=0)
        if len(ref) == 0:
            raise ValueError(f"class {label} has no reference images to rank against")
        rows = labels == label
        for f in range(values.shape[1]):
            rank = np.searchsorted(ref[:, f], values[rows, f], side="left")
            rank = rank + 0.5 * (np.searchsorted(ref[:, f], values[rows, f], side="right") - rank)
            scores[rows, f] = norm.ppf(np.clip(rank, 0.5, len(ref) - 0.5) / len(ref))
    return scores


def run_codes(run, images: tuple, one_hot: tuple) -> dict:
    """(train, test) codes of a trained run's (train, test) images, scored beside the oracle: its
    style code (class map applied), the encoder's own code, and each with the true class
    (one_hot, per split) beside it. A factor held far better with the class than without it is
    in the code, but written differently for each class."""
    from infoae.data import to_float

    kept = np.flatnonzero(run.model.style_mask)
    codes: dict[str, list] = {}
    for split_images, split_classes in zip(images, one_hot):
        own, mapped = (c[:, kept] for c in run.style_codes(to_float(split_images)))
        for name, code in (("run: style code", mapped), ("run: encoder's own code", own),
                           ("run: style code + class", np.c_[mapped, split_classes]),
                           ("run: own code + class", np.c_[own, split_classes])):
            codes.setdefault(name, []).append(code)
    return {name: tuple(pair) for name, pair in codes.items()}


def ceiling(data: DigitData, factor_sets: list[list[str]], n_train: int = 10000,
            n_test: int = 10000, seed: int = 0, run=None) -> list[dict]:
    """One row per factor set: {"code", "leak_mlp", "factor_r2"} of the oracle code of those
    factors' within-class ranks, then a trained run's codes (run_codes) when run is given, then
    the "class alone" row (the one-hot class as the code)."""
    from infoae.evaluation import disentanglement as dis
    from infoae.evaluation.factors import FactorSource
    from infoae.evaluation.metrics import probe_accuracies

    if not FactorSource.available(data):
        raise ValueError(f"dataset {data.name} has no style factors to measure a ceiling of")
    source = FactorSource(data, seed)
    names = list(source.names)
    continuous = [n for n, c in zip(names, source.categorical) if not c]
    for factors in factor_sets:
        unknown = [f for f in factors if f not in continuous]
        if unknown or not factors:
            raise ValueError(f"factors {unknown or factors} are not continuous factors of "
                             f"{data.name}; choose from {', '.join(continuous)}")
    n_train, n_test = min(n_train, len(data.train[1])), min(n_test, len(data.test[1]))
    train, test = source.real("train", n_train), source.real("test", n_test)
    labels = data.train[1][:n_train], data.test[1][:n_test]
    codes = {}
    for factors in factor_sets:
        columns = [names.index(f) for f in factors]
        codes["+".join(factors)] = (
            within_class_scores(train[:, columns], labels[0], train[:, columns], labels[0]),
            within_class_scores(test[:, columns], labels[1], train[:, columns], labels[0]))
    eye = np.eye(data.num_classes)
    one_hot = eye[labels[0]], eye[labels[1]]
    if run is not None:
        codes.update(run_codes(run, (data.train[0][:n_train], data.test[0][:n_test]), one_hot))
    codes["class alone"] = one_hot
    leaks = probe_accuracies({name: (a, labels[0], b, labels[1], "mlp")
                              for name, (a, b) in codes.items()}, seed)
    rows = []
    for name, (a, b) in codes.items():
        r2 = dis.factor_scores(a, train, b, test, source.categorical, seed)
        rows.append({"code": name, "leak_mlp": float(leaks[name]),
                     "factor_r2": {n: float(v) for n, v in zip(names, r2)
                                   if n in continuous}})
    return rows


def markdown(rows: list[dict]) -> str:
    """The ceiling rows as a markdown table."""
    names = list(rows[0]["factor_r2"])
    head = ["code", "leak MLP", *[f"{n} R^2" for n in names]]
    return "\n".join(markdown_table(head, (
        [row["code"], f"{row['leak_mlp']:.4f}", *(f"{row['factor_r2'][n]:.3f}" for n in names)]
        for row in rows)))
