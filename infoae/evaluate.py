"""`infoae evaluate`: the core disentanglement metrics of a trained run, on the test split.

Everything is trained fresh here with fixed seeds and never sees test images while training:
the leakage probes (on style codes of training images) and the swap judge (a CNN of its own
architecture, on real training images only).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from infoae.data import DigitData, load_data, make_dataset, to_float, training_batches
from infoae.factors import FactorSource, factor_metrics, mean_score
from infoae.metrics import frechet_distance, probe_accuracy, psnr, style_consistency
from infoae.run import Run, load_run, predict_in_batches, write_json

METRICS_FILE = "metrics.json"


def build_judge(image_shape, outputs: int = 10, activation: str | None = "softmax",
                dropout: float = 0.3, name: str = "judge"):
    """An independent digit classifier (not the content head's architecture); with
    activation=None and no dropout the same network regresses `outputs` numbers."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(image_shape),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(dropout),
        layers.Dense(outputs, activation=activation),
    ], name=name)


def train_judge(data: DigitData, epochs: int, seed: int):
    """Train the judge on real training images; returns (judge, validation accuracy)."""
    import keras

    keras.utils.set_random_seed(seed)
    judge = build_judge(data.image_shape)
    judge.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    batches, steps = training_batches(*data.train, 128, seed=seed)
    judge.fit(batches, steps_per_epoch=steps, epochs=epochs, verbose=0)
    validation_accuracy = float("nan")
    if len(data.validation[1]):
        validation_accuracy = judge.evaluate(make_dataset(*data.validation, 512, shuffle=False),
                                             verbose=0)[1]
    return judge, float(validation_accuracy)


def _predict(model, images) -> np.ndarray:
    return predict_in_batches(lambda x: model(x, training=False), images, batch_size=1000)


def judge_features(judge):
    """The judge's penultimate layer (dense 128, after ReLU): the features of the FDD."""
    import keras

    return keras.Model(judge.inputs[0], judge.layers[-3].output)


def evaluate_run(run_dir: str | Path, run: Run | None = None,
                 data: DigitData | None = None) -> dict:
    """Compute the core metrics of a run, write them to RUN_DIR/metrics.json, return them."""
    started = time.time()
    run = run or load_run(run_dir)
    config = run.config
    settings = config.evaluate
    if data is None:
        data = load_data(config.data, config.train.seed)
    test_images, test_labels = to_float(data.test[0]), data.test[1]
    n_probe = min(settings.probe_train_size, len(data.train[1]))
    probe_images, probe_labels = to_float(data.train[0][:n_probe]), data.train[1][:n_probe]

    content_probs = run.predict_content(test_images)
    train_codes, test_codes = run.encode_style(probe_images), run.encode_style(test_images)
    judge, judge_validation_acc = train_judge(data, settings.judge_epochs, settings.seed)
    judge_test_acc = float(np.mean(_predict(judge, test_images).argmax(1) == test_labels))

    features = judge_features(judge)
    n_swap = min(settings.swap_size, len(test_labels))
    swap_codes = test_codes[:n_swap]
    swap_hits, swapped_codes, swapped_features = [], [], []
    for label in range(10):
        swapped = run.generate(swap_codes, np.full(n_swap, label))
        swap_hits.append(np.mean(_predict(judge, swapped).argmax(1) == label))
        swapped_codes.append(run.encode_style(swapped))
        swapped_features.append(_predict(features, swapped))
    test_features = _predict(features, test_images)
    reference_features = _predict(features, to_float(data.train[0][:len(test_labels)]))
    reconstruction = run.reconstruct(test_images, test_labels)

    metrics = {
        "content_acc": float(np.mean(content_probs.argmax(1) == test_labels)),
        "style_leak_linear": probe_accuracy(train_codes, probe_labels, test_codes, test_labels,
                                            "linear", settings.seed),
        "style_leak_mlp": probe_accuracy(train_codes, probe_labels, test_codes, test_labels,
                                         "mlp", settings.seed),
        "swap_acc": float(np.mean(swap_hits)),
        "style_consistency": style_consistency(np.tile(swap_codes, (10, 1)),
                                               np.concatenate(swapped_codes), settings.seed),
        "recon_mse": float(np.mean((reconstruction - test_images) ** 2)),
        "recon_psnr": float(np.mean(psnr(test_images, reconstruction))),
        "fdd": frechet_distance(np.concatenate(swapped_features), test_features),
    }
    kept = np.flatnonzero(run.model.style_mask)
    style_code = {"dims": int(config.model.style_dim), "dims_kept": kept.tolist()}
    if len(kept) < config.model.style_dim:
        # Leakage of the full encoder output, pruned dimensions included, for transparency.
        def unpruned(images):
            return predict_in_batches(lambda x: run.model.encode_style(x, pruned=False), images)
        style_code["leak_mlp_all_dims"] = probe_accuracy(
            unpruned(probe_images), probe_labels, unpruned(test_images), test_labels, "mlp",
            settings.seed)
    report = {
        "metrics": metrics,
        "style_code": style_code,
        "swap_acc_per_label": [float(h) for h in swap_hits],
        "judge": {"architecture": "4 conv (32,32,64,64) + dense 128, trained on real train images",
                  "epochs": settings.judge_epochs, "validation_acc": judge_validation_acc,
                  "test_acc": judge_test_acc},
        "fdd": {"features": "the judge's penultimate layer (dense 128, ReLU)",
                "swapped_vs": "real test images",
                "real_train_vs_test": frechet_distance(reference_features, test_features)},
        "n": {"test": int(len(test_labels)), "probe_train": int(n_probe), "swap_sources": int(n_swap),
              "swap_images": int(10 * n_swap)},
        "seeds": {"probes": settings.seed, "judge": settings.seed, "split": config.train.seed},
        "settings": {"split": "test", "probes": "StandardScaler + LogisticRegression / MLP(256,256)",
                     "recon_psnr": "mean over images of per-image PSNR (peak 1.0)",
                     "dataset": data.name, "data_source": data.source},
    }
    if settings.factor_metrics and FactorSource.available(data):
        report["factors"] = factor_metrics(run, data, settings)
    if data.notice:
        report["notice"] = data.notice
    report["elapsed_s"] = round(time.time() - started, 1)
    write_json(Path(run.run_dir) / METRICS_FILE, report)
    return report


def format_metrics(report: dict) -> str:
    """A readable table of a metrics report."""
    m = report["metrics"]
    rows = [("content_acc", m["content_acc"], "higher"),
            ("style_leak_linear", m["style_leak_linear"], "lower (chance 0.10)"),
            ("style_leak_mlp", m["style_leak_mlp"], "lower (chance 0.10)"),
            ("swap_acc", m["swap_acc"], "higher"),
            ("style_consistency", m["style_consistency"], "lower (0 = kept)"),
            ("recon_mse", m["recon_mse"], "lower"),
            ("recon_psnr", m["recon_psnr"], "higher (dB)")]
    if "fdd" in m:
        rows.append(("fdd", m["fdd"], f"lower (real train vs test: "
                                      f"{report['fdd']['real_train_vs_test']:.2f})"))
    factors = report.get("factors")
    if factors:
        categorical = factors["categorical"]
        rows += [("mig", factors["mig"]["mig"], "higher (style code vs style factors)"),
                 ("sap", factors["sap"]["sap"], "higher"),
                 ("dci_disentanglement", factors["dci"]["disentanglement"], "higher"),
                 ("dci_completeness", factors["dci"]["completeness"], "higher"),
                 ("dci_informativeness", factors["dci"]["informativeness"], "higher"),
                 ("style_factor_r2", mean_score(factors["style_factor_r2"], categorical),
                  "higher (mean over continuous factors)"),
                 ("content_factor_r2", mean_score(factors["content_factor_r2"], categorical),
                  "lower"),
                 ("swap_factor_error", factors["swap_factor_error"]["ratio"],
                  "lower (random pairs = 1)")]
    lines = [f"{'metric':<20}{'value':>10}  better", "-" * 48]
    lines += [f"{name:<20}{value:>10.4f}  {better}" for name, value, better in rows]
    if factors:
        lines.append("per factor (R^2 from style / from content; font: accuracy; swap error ratio):")
        swap = factors["swap_factor_error"]["per_factor"]
        for name in factors["factors"]:
            ratio = f"  swap {swap[name]['ratio']:.3f}" if name in swap else ""
            lines.append(f"  {name:<12}{factors['style_factor_r2'][name]:>8.3f} /"
                         f"{factors['content_factor_r2'][name]:>7.3f}{ratio}")
    n = report["n"]
    code = report.get("style_code")
    if code and len(code["dims_kept"]) < code["dims"]:
        lines.append(f"style code: {len(code['dims_kept'])} of {code['dims']} dimensions kept "
                     f"(pruned as uninformative); MLP leakage of all {code['dims']}: "
                     f"{code['leak_mlp_all_dims']:.4f}")
    lines.append(f"n: test={n['test']} probe_train={n['probe_train']} swaps={n['swap_images']}; "
                 f"judge test acc {report['judge']['test_acc']:.4f}")
    if report.get("notice"):
        lines.append(report["notice"])
    return "\n".join(lines)
