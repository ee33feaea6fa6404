"""Metric cores on plain arrays (definitions in docs/metrics.md)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from infoae.config.job import PROBE_KINDS


@contextmanager
def one_blas_thread(enabled: bool = True):
    """Run scikit-learn's MLP probes with one BLAS thread: their products are small (mini-
    batches of 200 by 256 units), where BLAS threads wait on each other more than they work
    (2-5x slower on 2 busy cores; `scripts/bench.py` measures it). The figures stay the same:
    BLAS splits a product across threads by output blocks, not by sums. enabled=False keeps
    the process's threads (for the benchmark). The boosted-tree probe's OpenMP threads are held
    to one likewise: the probes already run one per core (in_processes)."""
    from threadpoolctl import threadpool_limits

    if not enabled:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"), \
            threadpool_limits(limits=1, user_api="openmp"):
        yield


def probe_scores(train_codes, train_labels, test_codes, test_labels, kind: str = "mlp",
                 seed: int = 0, one_thread: bool = True) -> dict:
    """A probe fitted on standardised train codes to predict the label, scored on the test
    codes: {"acc": accuracy, "ce_bits": mean cross-entropy -log2 q(y|z) of the true labels
    (probabilities floored at PROBABILITY_FLOOR), "ece": expected calibration error of its
    top-class confidence (15 equal-width bins)}.

    kind "linear": multinomial logistic regression; kind "mlp": two hidden layers of 256 ReLU
    units, Adam, early stopping on a 10% hold-out of the train codes (when it can hold every
    class; else 300 epochs); kind "boost": histogram gradient-boosted trees (scikit-learn's,
    early stopping on a 10% hold-out likewise), a family that reads the class from
    axis-aligned regions rather than smooth boundaries. Fitted with one BLAS thread unless
    one_thread is False.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # Early stopping holds out 10% of the codes, stratified: only possible when that hold-out
    # can hold every class (not so for a few codes of many classes).
    hold_out = 0.1 * len(train_labels) >= len(np.unique(train_labels))
    if kind == "linear":
        probe = LogisticRegression(max_iter=2000, random_state=seed)
    elif kind == "mlp":
        probe = MLPClassifier((256, 256), max_iter=300, early_stopping=hold_out,
                              n_iter_no_change=15, random_state=seed)
    elif kind == "boost":
        probe = HistGradientBoostingClassifier(max_iter=300, early_stopping=hold_out,
                                               n_iter_no_change=15, random_state=seed)
    else:
        raise ValueError(f"probe kind must be one of {', '.join(PROBE_KINDS)}, got {kind!r}")
    with one_blas_thread(one_thread):
        model = make_pipeline(StandardScaler(), probe).fit(train_codes, train_labels)
        probabilities = model.predict_proba(test_codes)
    return {"acc": float(model.score(test_codes, test_labels)),
            **calibration(probabilities, model.classes_, test_labels)}


# Probabilities below this count as this in a cross-entropy: a probe that gives a true label
# probability 0 adds log2(1 / 1e-6) ~ 19.9 bits for that code, not infinity.
PROBABILITY_FLOOR = 1e-6


def calibration(probabilities, classes, labels, bins: int = 15) -> dict:
    """Cross-entropy in bits of labels under a probe's probabilities (N, C) over classes, and
    the expected calibration error of its top-class confidence."""
    probabilities, labels = np.asarray(probabilities, np.float64), np.asarray(labels)
    classes = np.asarray(classes)  # Sorted, as scikit-learn's classes_ are.
    column = np.minimum(np.searchsorted(classes, labels), len(classes) - 1)
    true = np.where(classes[column] == labels,  # A label the probe never saw: probability 0.
                    probabilities[np.arange(len(labels)), column], 0.0)
    ce_bits = float(np.mean(-np.log2(np.maximum(true, PROBABILITY_FLOOR))))
    confidence = probabilities.max(1)
    correct = classes[probabilities.argmax(1)] == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    ece = sum(abs(np.mean(correct[which == b]) - np.mean(confidence[which == b]))
              * np.mean(which == b) for b in range(bins) if np.any(which == b))
    return {"ce_bits": ce_bits, "ece": float(ece)}


def label_entropy_bits(labels) -> float:
    """H(Y) in bits of the labels' empirical distribution."""
    counts = np.bincount(np.asarray(labels, np.int64))
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def majority_floor(labels) -> float:
    """The accuracy of always naming the commonest label: the floor of a leakage figure (an
    uninformative probe reads at least this much on an unbalanced split, not 1/classes)."""
    counts = np.bincount(np.asarray(labels, np.int64))
    return float(counts.max() / counts.sum())


def information_bits(panel: list[dict], labels) -> dict:
    """A lower bound on I(code; class) in bits from a probe panel's held-out scores: H(Y) minus
    the lowest cross-entropy of any probe (any probe q gives I >= H(Y) - E[-log2 q(y|z)]; a
    better-calibrated probe gives a tighter bound), floored at 0."""
    h_y = label_entropy_bits(labels)
    best = min(range(len(panel)), key=lambda i: panel[i]["ce_bits"])
    return {"bits": max(0.0, h_y - panel[best]["ce_bits"]), "h_y_bits": h_y,
            "ce_bits": panel[best]["ce_bits"], "probe": best, "ece": panel[best]["ece"]}


def probe_accuracy(train_codes, train_labels, test_codes, test_labels, kind: str = "mlp",
                   seed: int = 0, one_thread: bool = True) -> float:
    """The test accuracy of probe_scores."""
    return probe_scores(train_codes, train_labels, test_codes, test_labels, kind, seed,
                        one_thread)["acc"]


def in_processes(function, calls: list[tuple]) -> list:
    """[function(*args) for args in calls], the calls spread over worker processes, one per
    CPU core (joblib's): for the evaluation's independent probes, each of which runs on one
    BLAS thread (see one_blas_thread). The results are the same as one after the other."""
    from joblib import Parallel, cpu_count, delayed

    if len(calls) < 2:
        return [function(*args) for args in calls]
    return Parallel(n_jobs=min(len(calls), cpu_count()))(
        delayed(function)(*args) for args in calls)


def probe_accuracies(probes: dict, seed: int = 0) -> dict:
    """probe_accuracy of several probes, in parallel processes (in_processes).

    probes: {name: (train_codes, train_labels, test_codes, test_labels, kind)}.
    """
    scores = in_processes(probe_accuracy, [(*probe, seed) for probe in probes.values()])
    return dict(zip(probes, scores))


def probe_panels(codes: dict, kinds, seed: int = 0, scores: bool = False) -> dict:
    """Each set of codes read by a panel of fresh probes, probe i of kind kinds[i] seeded
    seed + i, all in parallel processes (in_processes): {name: [accuracy of each probe]}
    ({name: [probe_scores of each probe]} with scores=True).

    codes: {name: (train_codes, train_labels, test_codes, test_labels)}. One probe is a noisy
    witness (its seed, through the early-stopping hold-out and the initial weights, moves an
    MLP's accuracy on the same codes by up to 2 points); the evaluation reports the highest of
    the panel, the way swap_acc is the lowest of its judges.
    """
    calls = [(*sets, kind, seed + i) for sets in codes.values() for i, kind in enumerate(kinds)]
    results = in_processes(probe_scores, calls)
    if not scores:
        results = [result["acc"] for result in results]
    return {name: results[j * len(kinds):(j + 1) * len(kinds)] for j, name in enumerate(codes)}


def psnr(reference, reconstruction) -> np.ndarray:
    """Per-image peak signal-to-noise ratio in dB for pixels in [0, 1]."""
    axes = tuple(range(1, np.ndim(reference)))
    mse = np.mean((np.asarray(reference) - np.asarray(reconstruction)) ** 2, axis=axes)
    return 10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))


def spread_sample(count: int, n: int, seed: int = 0) -> np.ndarray:
    """Indices of n of a split's count images, drawn at random with the seed and kept in
    order; all of them when n >= count. A test split need not be shuffled (MNIST's first
    5,000 test digits come from other writers than its last 5,000), so a subset of it is
    drawn over the whole split, never taken as its first n."""
    if n >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, n, replace=False))


def consistency_ratios(codes, read_back, seed: int = 0) -> np.ndarray:
    """Per code: the squared distance between a code and its swap's re-encoded code, divided by
    the mean squared distance between codes of random pairs. codes and read_back: (..., D)
    arrays of one shape; the pairs are drawn from all of codes."""
    codes, read_back = np.asarray(codes), np.asarray(read_back)
    flat = codes.reshape(-1, codes.shape[-1])
    partners = np.random.default_rng(seed).permutation(len(flat))
    random_pairs = np.mean(np.sum((flat - flat[partners]) ** 2, axis=1))
    return np.sum((read_back - codes) ** 2, axis=-1) / max(random_pairs, 1e-12)


def style_consistency(source_codes, swapped_codes, seed: int = 0) -> float:
    """Mean squared distance between source and re-encoded swap codes, divided by the mean
    squared distance between codes of random pairs (0 = style kept exactly, ~1 = lost)."""
    return float(np.mean(consistency_ratios(source_codes, swapped_codes, seed)))


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D) (as in FID)."""
    import warnings

    from scipy import linalg

    features_a, features_b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mean_a, mean_b = features_a.mean(0), features_b.mean(0)
    cov_a = np.cov(features_a, rowvar=False)
    cov_b = np.cov(features_b, rowvar=False)
    with warnings.catch_warnings():
        # Dead ReLU units make the covariances singular; sqrtm warns but stays accurate, and
        # a non-finite root is retried with a small ridge (as FID implementations do).
        warnings.simplefilter("ignore")
        root = linalg.sqrtm(cov_a @ cov_b)
        if not np.all(np.isfinite(root)):
            ridge = 1e-6 * np.eye(len(cov_a))
            root = linalg.sqrtm((cov_a + ridge) @ (cov_b + ridge))
    trace = np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(np.real(root))
    return float(np.sum((mean_a - mean_b) ** 2) + max(trace, 0.0))
