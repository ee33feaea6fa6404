"""Factor-level disentanglement metrics on plain arrays: MIG, SAP, DCI, factor R^2.

The definitions follow Google's disentanglement_lib (Locatello et al. 2019):
- MIG (Chen et al. 2018): codes discretised into 20 equal-width histogram bins per dimension;
  for every factor, the gap between the largest and the second-largest mutual information
  with one code dimension, divided by the factor's entropy; averaged over factors.
- SAP (Kumar et al. 2018): a score per (code dimension, factor): for a continuous factor the
  squared correlation on the train points, for a categorical one the test accuracy of a
  LinearSVC (C=0.01, balanced classes) on that single dimension; per factor the gap between
  the two best dimensions; averaged over factors.
- DCI (Eastwood and Williams 2018): gradient-boosted trees predict each factor from the whole
  code; their feature importances form the matrix R (codes x factors). Disentanglement: per
  code dimension 1 - entropy of its row (base = number of factors), weighted by the row's
  share of all importance. Completeness: per factor 1 - entropy of its column (base = number
  of code dimensions), weighted likewise. Informativeness: the trees' test score (accuracy for
  a categorical factor, R^2 for a continuous one), averaged over factors.

Factors are an array (N, K) with a boolean per column saying whether it is categorical.
Continuous factors are discretised into 20 equal-width bins where a metric needs classes
(MIG's mutual information), as disentanglement_lib does for its codes.
"""

from __future__ import annotations

import numpy as np

from infoae.evaluation.metrics import one_blas_thread

BINS = 20


def histogram_discretize(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Each column mapped to the index of its equal-width histogram bin (disentanglement_lib)."""
    values = np.asarray(values, np.float64)
    out = np.zeros(values.shape, np.int64)
    for column in range(values.shape[1]):
        edges = np.histogram(values[:, column], bins)[1]
        out[:, column] = np.digitize(values[:, column], edges[:-1])
    return out


def _discrete_factors(factors: np.ndarray, categorical) -> np.ndarray:
    factors = np.asarray(factors)
    out = np.zeros(factors.shape, np.int64)
    for column, is_categorical in enumerate(categorical):
        if is_categorical:
            out[:, column] = np.unique(factors[:, column], return_inverse=True)[1]
        else:
            out[:, column] = histogram_discretize(factors[:, [column]])[:, 0]
    return out


def _mutual_information(discrete_codes: np.ndarray, discrete_factors: np.ndarray) -> np.ndarray:
    """Mutual information (nats) of every discrete code dimension with every discrete factor."""
    from sklearn.metrics import mutual_info_score

    return np.array([[mutual_info_score(discrete_factors[:, k], discrete_codes[:, d])
                      for k in range(discrete_factors.shape[1])]
                     for d in range(discrete_codes.shape[1])])


def mig(codes: np.ndarray, factors: np.ndarray, categorical) -> dict:
    """Mutual information gap: {'mig': mean over factors, 'per_factor': [...]}."""
    from sklearn.metrics import mutual_info_score

    discrete_factors = _discrete_factors(factors, categorical)
    information = _mutual_information(histogram_discretize(codes), discrete_factors)
    entropy = np.array([mutual_info_score(f, f) for f in discrete_factors.T])
    ranked = np.sort(information, axis=0)[::-1]
    second = ranked[1] if len(ranked) > 1 else np.zeros(ranked.shape[1])
    gaps = np.where(entropy > 0, (ranked[0] - second) / np.maximum(entropy, 1e-12), 0.0)
    return {"mig": float(np.mean(gaps)), "per_factor": gaps.tolist()}


def sap(train_codes, train_factors, test_codes, test_factors, categorical) -> dict:
    """Separated attribute predictability: {'sap': mean gap, 'per_factor': [...]}."""
    from sklearn.svm import LinearSVC

    n_codes, n_factors = train_codes.shape[1], train_factors.shape[1]
    scores = np.zeros((n_codes, n_factors))
    for d in range(n_codes):
        code = train_codes[:, d]
        for k in range(n_factors):
            if categorical[k]:
                if np.std(code) == 0:
                    continue
                svc = LinearSVC(C=0.01, class_weight="balanced")
                svc.fit(code[:, None], train_factors[:, k])
                scores[d, k] = np.mean(svc.predict(test_codes[:, d:d + 1]) == test_factors[:, k])
            else:
                covariance = np.cov(code, train_factors[:, k], ddof=1)
                variance = covariance[0, 0] * covariance[1, 1]
                scores[d, k] = covariance[0, 1] ** 2 / variance if variance > 0 else 0.0
    ranked = np.sort(scores, axis=0)[::-1]
    second = ranked[1] if n_codes > 1 else np.zeros(n_factors)
    gaps = ranked[0] - second
    return {"sap": float(np.mean(gaps)), "per_factor": gaps.tolist()}


def _importance_and_score(train_codes, train_factor, test_codes, test_factor, is_categorical,
                          seed):
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

    if is_categorical:
        model = GradientBoostingClassifier(random_state=seed)
    else:
        model = GradientBoostingRegressor(random_state=seed)
    model.fit(train_codes, train_factor)
    return np.abs(model.feature_importances_), float(model.score(test_codes, test_factor))


def dci(train_codes, train_factors, test_codes, test_factors, categorical, seed: int = 0) -> dict:
    """{'disentanglement', 'completeness', 'informativeness', 'importance': (codes x factors)}."""
    from joblib import Parallel, delayed
    from scipy.stats import entropy

    n_codes, n_factors = train_codes.shape[1], train_factors.shape[1]
    # One forest per factor, in threads (tree building releases the GIL); each is seeded, so
    # the result does not depend on the number of threads.
    fitted = Parallel(n_jobs=-1, prefer="threads")(
        delayed(_importance_and_score)(train_codes, train_factors[:, k], test_codes,
                                       test_factors[:, k], categorical[k], seed)
        for k in range(n_factors))
    importance = np.stack([imp for imp, _ in fitted], axis=1)
    scores = [score for _, score in fitted]
    total = importance.sum()
    if total == 0:
        return {"disentanglement": 0.0, "completeness": 0.0,
                "informativeness": float(np.mean(scores)), "importance": importance.tolist()}
    per_code = (1.0 - entropy(importance.T + 1e-11, base=n_factors) if n_factors > 1
                else np.ones(n_codes))
    per_factor = (1.0 - entropy(importance + 1e-11, base=n_codes) if n_codes > 1
                  else np.ones(n_factors))
    return {"disentanglement": float(np.sum(per_code * importance.sum(1) / total)),
            "completeness": float(np.sum(per_factor * importance.sum(0) / total)),
            "informativeness": float(np.mean(scores)), "per_factor_score": scores,
            "importance": importance.tolist()}


def factor_scores(train_inputs, train_factors, test_inputs, test_factors, categorical,
                  seed: int = 0) -> list[float]:
    """How well each factor is predicted from a representation: test R^2 (continuous, one
    multi-output MLP regressor on standardised inputs and targets) or accuracy (categorical,
    an MLP classifier). Probes are fitted on train points only."""
    with one_blas_thread():
        return _factor_scores(train_inputs, train_factors, test_inputs, test_factors,
                              categorical, seed)


def _factor_scores(train_inputs, train_factors, test_inputs, test_factors, categorical,
                   seed: int) -> list[float]:
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    categorical = np.asarray(categorical, bool)
    scores = np.zeros(len(categorical))
    continuous = np.flatnonzero(~categorical)
    if len(continuous):
        mean = train_factors[:, continuous].mean(0)
        scale = np.maximum(train_factors[:, continuous].std(0), 1e-12)
        regressor = make_pipeline(StandardScaler(), MLPRegressor(
            hidden_layer_sizes=(256, 256), max_iter=300, early_stopping=True, n_iter_no_change=15,
            random_state=seed))
        regressor.fit(train_inputs, (train_factors[:, continuous] - mean) / scale)
        predicted = regressor.predict(test_inputs).reshape(len(test_inputs), -1)
        target = (test_factors[:, continuous] - mean) / scale
        residual = np.sum((target - predicted) ** 2, axis=0)
        spread = np.sum((target - target.mean(0)) ** 2, axis=0)
        scores[continuous] = 1.0 - residual / np.maximum(spread, 1e-12)
    for k in np.flatnonzero(categorical):
        classifier = make_pipeline(StandardScaler(), MLPClassifier(
            hidden_layer_sizes=(256, 256), max_iter=300, early_stopping=True, n_iter_no_change=15,
            random_state=seed))
        classifier.fit(train_inputs, train_factors[:, k])
        scores[k] = classifier.score(test_inputs, test_factors[:, k])
    return scores.tolist()
