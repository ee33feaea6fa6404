"""`infoae evaluate`: the core disentanglement metrics of a trained run, on the test split (or,
for choosing settings, on the validation split: metrics.validation.json).

Everything is trained with fixed seeds and never sees test images while training: the
leakage probes (fresh, on style codes of training images) and the swap judges (two CNNs of
their own architectures, on real training images only; cached, since they depend on the data
alone). swap_acc is the strictest judge's.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from infoae.data import DigitData, load_data, scored_split, to_float
from infoae.evaluation.factors import FactorSource, factor_metrics, mean_score
from infoae.evaluation.judge import (JUDGES, judge_cache, judge_labels, judge_reader,
                                     read_with_features)
from infoae.evaluation.metrics import (frechet_distance, information_bits, majority_floor,
                                      probe_accuracy, probe_panels, psnr, spread_sample,
                                      style_consistency)
from infoae.model.trained import Run
from infoae.rundir import file_digest, metrics_file, write_json
from infoae.tables import wrap


def provenance(run: Run, data: DigitData) -> dict:
    """What an evaluation scored: the weights file (with its checksum), the style dimensions
    kept, the class normaliser, and the data."""
    scored = {"weights": None, "style_dims_kept": None, "class_map": None,
              "data": {"dataset": data.name, "source": data.source, "split_sizes": data.sizes()}}
    if run.weights is not None and run.weights.is_file():
        where = (str(run.weights.relative_to(run.run_dir))
                 if run.run_dir is not None and run.weights.is_relative_to(run.run_dir)
                 else str(run.weights))
        scored["weights"] = {"file": where, **file_digest(run.weights)}
    mask = getattr(run.model, "style_mask", None)
    if mask is not None:
        scored["style_dims_kept"] = np.flatnonzero(np.asarray(mask)).tolist()
    path = run.class_map_path
    if run.class_maps and path is not None:
        scored["class_map"] = {"file": path.name,
                                "kind": next(iter(run.class_maps.values())).kind,
                               **file_digest(path)}
    return scored


def evaluate_run(run: Run, data: DigitData | None = None, split: str | None = None) -> dict:
    """Compute the core metrics of a run on a split (default evaluate.split: "test"), write
    them to RUN_DIR/metrics.json (metrics.validation.json for the validation split), return
    them."""
    started = time.time()
    config = run.config
    settings = config.evaluate
    split = split or settings.split
    if data is None:
        data = load_data(config.data, config.train.seed)
    full, data = data, scored_split(data, split)  # The scored split in the test position.
    test_images, test_labels = to_float(data.test[0]), data.test[1]
    n_probe = min(settings.probe_train_size, len(data.train[1]))
    probe_images, probe_labels = to_float(data.train[0][:n_probe]), data.train[1][:n_probe]

    last, stage_seconds = [started], {}

    def stage(key: str, what: str) -> None:
        """Print a stage's own time and the evaluation's so far; record the stage's."""
        now = time.time()
        print(wrap(f"  evaluate: {what}: {now - last[0]:.0f} s ({now - started:.0f} s in all)"),
              flush=True)
        stage_seconds[key] = round(now - last[0], 2)
        last[0] = now

    print(wrap(f"Evaluating {run.run_dir} on the {data.name} {split} split "
               f"({len(test_labels)} images)..."), flush=True)
    content_probs = run.predict_content(test_images)
    train_codes, test_codes = run.encode_style(probe_images), run.encode_style(test_images)
    stage("codes", "content head and style codes")
    judges = {kind: judge_cache(data, settings.judge_epochs, settings.seed, kind)
              for kind in JUDGES}
    stage("judges", f"judges ({', '.join(JUDGES)}) trained or read from the cache")
    # The plain judge's classes and FDD features come from one pass over the same images.
    reader = judge_reader(judges["plain"][0])
    test_read, test_features = read_with_features(reader, test_images)
    for kind, (judge, info) in judges.items():
        read = test_read if kind == "plain" else judge_labels(judge, test_images)
        info["test_acc"] = float(np.mean(read == test_labels))

    swaps = _swaps(run, judges, reader, test_codes, len(test_labels), settings)
    swap_codes, n_swap, strictest = swaps["codes"], len(swaps["codes"]), swaps["strictest"]
    reference = to_float(data.train[0][:len(test_labels)])
    reference_features = read_with_features(reader, reference)[1]
    reconstruction = run.reconstruct(test_images, test_labels)
    stage("swaps", f"{run.num_classes * n_swap} swaps judged and re-encoded")

    scores = probe_panels(
        {"style_leak_mlp": (train_codes, probe_labels, test_codes, test_labels),
         **_style_code_probes(run, probe_images, probe_labels, test_images, test_labels)},
        settings.leak_probes, settings.seed, scores=True)
    panels = {name: [score["acc"] for score in panel] for name, panel in scores.items()}
    leakage = {name: max(accuracies) for name, accuracies in panels.items()}
    metrics = {
        "content_acc": float(np.mean(content_probs.argmax(1) == test_labels)),
        "style_leak_linear": probe_accuracy(train_codes, probe_labels, test_codes, test_labels,
                                            "linear", settings.seed),
        "style_leak_mlp": leakage.pop("style_leak_mlp"),
        "swap_acc": judges[strictest][1]["swap_acc"],
        "style_consistency": style_consistency(np.tile(swap_codes, (run.num_classes, 1)),
                                               np.concatenate(swaps["read_back"]),
                                               settings.seed),
        "recon_mse": float(np.mean((reconstruction - test_images) ** 2)),
        "recon_psnr": float(np.mean(psnr(test_images, reconstruction))),
        "fdd": frechet_distance(np.concatenate(swaps["swapped_features"]), test_features),
    }
    kept = np.flatnonzero(run.model.style_mask)
    style_code = {"dims": int(run.config.model.style_dim), "dims_kept": kept.tolist(),
                  "class_map": (next(iter(run.class_maps.values())).kind
                                      if run.class_maps else "none"),
                  **leakage, "leak_probes": {"kinds": list(settings.leak_probes), **panels},
                  "floor": {"majority": majority_floor(test_labels),
                            "chance": 1.0 / run.num_classes},
                  "information": {name: information_bits(panel, test_labels)
                                  for name, panel in scores.items()}}
    if swaps["raw_round_trip"][0]:
        style_code["consistency_unnormalised"] = style_consistency(
            *map(np.concatenate, swaps["raw_round_trip"]), settings.seed)
    stage("probes", "leakage probes (of the code, of the whole and of the unnormalised code)")
    report = {
        "metrics": metrics,
        "style_code": style_code,
        "swap_acc_per_label": [float(h) for h in swaps["hits"][strictest]],
        "judge": {**judges["plain"][1], "trained_on": "real train images"},
        "judges": {kind: info for kind, (_, info) in judges.items()},
        "swap_judge": f"the strictest of {len(judges)} judges: {strictest}",
        "fdd": {"features": "the judge's penultimate layer (dense 128, ReLU)",
                "swapped_vs": "real test images",
                "real_train_vs_test": frechet_distance(reference_features, test_features)},
        "n": {"test": int(len(test_labels)), "probe_train": int(n_probe), "swap_sources": int(n_swap),
              "swap_images": int(run.num_classes * n_swap)},
        "num_classes": int(run.num_classes),
        "seeds": {"probes": settings.seed, "judge": settings.seed, "split": config.train.seed},
        "settings": _settings_described(data, settings, n_swap, len(test_labels), split),
        "evaluate": dataclasses.asdict(settings),
    }
    if settings.factor_metrics and FactorSource.available(data):
        report["factors"] = factor_metrics(run, data, settings)
        stage("factors", "factor metrics (MIG, SAP, DCI, factor R^2, swap factor error)")
    if data.notice:
        report["notice"] = data.notice
    report["scored"] = provenance(run, full)
    report["scored"]["data"]["split"] = split
    report["elapsed_s"] = round(time.time() - started, 1)
    report["stage_seconds"] = stage_seconds  # codes, judges, swaps, probes (, factors)
    write_json(Path(run.run_dir) / metrics_file(split), report)
    return report


def _swaps(run: Run, judges: dict, reader, test_codes, n_test: int, settings) -> dict:
    """Each swap source's style drawn as every class: each judge's accuracy on them (into
    judges' infos), the strictest judge, the codes read back, the judge features of the
    swaps (from the plain judge's reader, in the pass that reads their classes), and the
    round trip in the encoder's own code where a class map is on."""
    swap_sources = spread_sample(n_test, settings.swap_size, settings.seed)
    swap_codes = test_codes[swap_sources]
    hits = {kind: [] for kind in judges}
    read_back, swapped_features, raw_round_trip = [], [], ([], [])
    n = len(swap_codes)
    for classes, swapped in run.label_chunks(swap_codes):  # Several classes per chunk.
        labels = np.repeat(classes, n)
        plain_read, plain_features = read_with_features(reader, swapped)
        for kind, (judge, _) in judges.items():
            read = plain_read if kind == "plain" else judge_labels(judge, swapped)
            hits[kind] += list(np.mean((read == labels).reshape(len(classes), n), axis=1))
        own_code, mapped_code = run.style_codes(swapped)
        read_back += np.split(mapped_code, len(classes))
        swapped_features += np.split(plain_features, len(classes))
        if "kept" in run.class_maps:  # the encoder's own code fed to the generator, and read back
            raw_round_trip[0].extend(np.split(run.generator_codes(
                np.tile(swap_codes, (len(classes), 1)), labels), len(classes)))
            raw_round_trip[1].extend(np.split(own_code, len(classes)))
    for kind, (_, info) in judges.items():
        info["swap_acc"] = float(np.mean(hits[kind]))
    strictest = min(judges, key=lambda kind: judges[kind][1]["swap_acc"])
    return {"codes": swap_codes, "hits": hits, "strictest": strictest,
            "read_back": read_back, "swapped_features": swapped_features,
            "raw_round_trip": raw_round_trip}


def _settings_described(data: DigitData, settings, n_swap: int, n_test: int,
                        split: str) -> dict:
    return {"split": split,
            "probes": ("StandardScaler + LogisticRegression; every MLP leakage figure "
                       "the highest of style_code.leak_probes (probe i seeded seed + i)"),
            "recon_psnr": "mean over images of per-image PSNR (peak 1.0)",
            "swap_sources": (f"the whole {split} split" if n_swap == n_test else
                             f"{n_swap} {split} images drawn at random (seed "
                             f"{settings.seed}), the same for every run"),
            "dataset": data.name, "data_source": data.source}


def _style_code_probes(run: Run, probe_images, probe_labels, test_images, test_labels) -> dict:
    """For transparency, the whole encoder output (pruned dimensions included) and the code
    before class normalisation, where they differ from the code itself, as the probe panel's
    (train codes, labels, test codes, labels)."""
    pruned_some = int(np.sum(run.model.style_mask)) < run.config.model.style_dim
    variants = {}  # name: (pruned, normalised)
    if pruned_some:
        variants["leak_mlp_all_dims"] = (False, True)
    if run.class_maps:
        variants["leak_mlp_unnormalised"] = (True, False)
        if pruned_some:
            variants["leak_mlp_all_dims_unnormalised"] = (False, False)
    return {name: (run.encode_style(probe_images, *flags), probe_labels,
                   run.encode_style(test_images, *flags), test_labels)
            for name, flags in variants.items()}


def format_metrics(report: dict) -> str:
    """A readable table of a metrics report."""
    m = report["metrics"]
    code = report.get("style_code") or {}
    chance = f"lower (chance {1.0 / report.get('num_classes', 10):.2f})"
    if "floor" in code:  # The commonest class's share: what an uninformative probe reads.
        chance = (f"lower (floor {code['floor']['majority']:.4f}, chance "
                  f"{code['floor']['chance']:.2f})")
    rows = [("content_acc", m["content_acc"], "higher"),
            ("style_leak_linear", m["style_leak_linear"], chance),
            ("style_leak_mlp", m["style_leak_mlp"], chance),
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
    information = code.get("information", {}).get("style_leak_mlp")
    if information:
        panel = code["leak_probes"]["kinds"]
        lines.append(f"class information in the style code: >= {information['bits']:.3f} of "
                     f"H(class) = {information['h_y_bits']:.3f} bits")
        lines.append(f"  (H(class) - the panel's lowest held-out cross-entropy, "
                     f"{information['ce_bits']:.3f} bits: {panel[information['probe']]} probe "
                     f"{information['probe']}, calibration error {information['ece']:.3f})")
    if code and len(code["dims_kept"]) < code["dims"]:
        lines.append(f"style code: {len(code['dims_kept'])} of {code['dims']} dimensions kept "
                     f"(pruned as uninformative); MLP leakage of all {code['dims']}: "
                     f"{code['leak_mlp_all_dims']:.4f}")
    kind = code.get("class_map", code.get("class_normalise", "none")) if code else "none"
    if kind != "none":  # (metrics.json of older runs named it class_normalise)
        lines.append(f"class-mapped code ({kind}); MLP leakage before the map: "
                     f"{code['leak_mlp_unnormalised']:.4f}"
                     + (f", all dims {code['leak_mlp_all_dims_unnormalised']:.4f}"
                        if "leak_mlp_all_dims_unnormalised" in code else ""))
    panel = (code or {}).get("leak_probes")
    if panel:
        lines.append(f"MLP leakage: the highest of {len(panel['kinds'])} probes "
                     f"({', '.join(panel['kinds'])}): " + " / ".join(
                         f"{score:.4f}" for score in panel["style_leak_mlp"]))
    judges = report.get("judges", {"plain": report["judge"]})
    split = report.get("settings", {}).get("split", "test")
    lines.append(f"n: {split}={n['test']} probe_train={n['probe_train']} swaps={n['swap_images']}; "
                 "judges (test acc / swap acc): " + ", ".join(
                     f"{kind} {j['test_acc']:.4f} / {j.get('swap_acc', float('nan')):.4f}"
                     for kind, j in judges.items()))
    if report.get("notice"):
        lines.append(report["notice"])
    return wrap("\n".join(lines))
