"""What the class map costs: one trained run, several class maps, side by side.

The class map (``model.class_map``, infoae.model.class_map) hides the class from the
style code by sending every class's codes to one distribution; how hard it bends the code
decides how much of the style a probe still reads (factor R^2) and how far a swap's
re-encoded code lands from its source (style consistency, measured in the mapped code). This
module refits other maps on the same run's codes, without touching the run, and scores each
with the evaluation's own probes: the MLP and linear leakage, the factor R^2 from the style
code (where the data has factors) and the style consistency, in the mapped code and in the
encoder's own. Used by scripts/class_map_sweep.py.

A map is named "none", "moments" or "gaussian", the last optionally with its shape:
"gaussian:layers=30:knots=9" (defaults: infoae.model.class_map.LAYERS and KNOTS), and
"gaussian:align" turns each class's Gaussianized codes into one frame (ClassMap.fit);
"gaussian:sampled" fits the map on one draw of the variational code (mean + sd * noise) per
image instead of its mean (the map is still applied to means). Each map can
also be scored under other pruning thresholds (model.prune_nats): the dimensions kept are those
whose information, as run.json records it, reaches the threshold.
"""

from __future__ import annotations

import numpy as np

from infoae.data import DigitData, to_float
from infoae.evaluation.metrics import (consistency_ratios, probe_accuracy, probe_panels,
                                      spread_sample, style_consistency)
from infoae.model.classifiers import predict_in_batches
from infoae.model.class_map import KINDS, KNOTS, LAYERS, ClassMap, class_map_images
from infoae.model.trained import Run
from infoae.tables import markdown_table


def parse_map(name: str) -> dict:
    """{"kind", "layers", "knots"} of a map name (see the module docstring)."""
    kind, *options = name.strip().split(":")
    if kind not in KINDS:
        raise ValueError(f"class map {name!r}: the kind must be one of {KINDS}")
    spec = {"kind": kind, "layers": LAYERS, "knots": KNOTS, "align": False, "sampled": False}
    for option in options:
        key, _, value = option.partition("=")
        if kind == "gaussian" and option in ("align", "sampled"):
            spec[option] = True
        elif kind != "gaussian" or key not in ("layers", "knots") or not value.isdigit():
            raise ValueError(f"class map {name!r}: only the gaussian map takes options, "
                             "layers=N, knots=N, align and sampled "
                             "(e.g. gaussian:layers=30:knots=9)")
        else:
            spec[key] = int(value)
    return spec


def fit_map(run: Run, data: DigitData, spec: dict) -> dict:
    """The class_maps {"kept": ...} of spec fitted on the codes the run's own map was fitted
    on (training images past the probes', with their true labels); {} for "none"."""
    if spec["kind"] == "none":
        return {}
    rows, _ = class_map_images(run.config, data)
    images, labels = to_float(data.train[0][rows]), data.train[1][rows]
    encode = _sampled_code if spec["sampled"] else (
        lambda model, x, y: model.encode_style(x, y, pruned=True))
    codes = predict_in_batches(lambda x, y: encode(run.model, x, y), images,
                               labels.astype(np.int32))
    return {"kept": ClassMap.fit(codes, labels, run.num_classes, spec["kind"],
                                        layers=spec["layers"], knots=spec["knots"],
                                        align=spec["align"])}


def _sampled_code(model, images, labels):
    """One draw of the variational code (mean + sd * noise), pruned dimensions at 0."""
    import keras
    from keras import ops

    mean, log_var = model.encoder_outputs(ops.convert_to_tensor(images, "float32"), labels, False)
    noise = keras.random.normal(ops.shape(mean), seed=model.seed_generator)
    return (mean + ops.exp(0.5 * log_var) * noise) * ops.convert_to_tensor(model.style_mask)


def score_map(run: Run, data: DigitData, sources: int = 1000) -> dict:
    """The evaluation's leakage probes, factor R^2 and style consistency of run's code as its
    class_maps map it (sources: test images, drawn at random with evaluate.seed, whose swaps
    to every label are re-encoded)."""
    from infoae.evaluation import disentanglement as dis
    from infoae.evaluation.factors import FactorSource

    settings = run.config.evaluate
    kept = np.flatnonzero(run.model.style_mask)
    n_probe = min(settings.probe_train_size, len(data.train[1]))
    train_codes = run.encode_style(to_float(data.train[0][:n_probe]))[:, kept]
    test_codes = run.encode_style(to_float(data.test[0]))[:, kept]
    labels = (data.train[1][:n_probe], data.test[1])
    sets = (train_codes, labels[0], test_codes, labels[1])
    panel = probe_panels({"leak_mlp": sets}, settings.leak_probes, settings.seed)["leak_mlp"]
    scores = {"leak_mlp": max(panel), "leak_mlp_probes": panel,
              "leak_linear": probe_accuracy(*sets, "linear", settings.seed)}
    chosen = spread_sample(len(data.test[1]), sources, settings.seed)
    swap_codes = run.encode_style(to_float(data.test[0][chosen]))
    mapped, read_back, fed, read_raw = [], [], [], []
    for label, swapped in run.each_label(swap_codes):
        mapped.append(swap_codes)
        own_code, mapped_code = run.style_codes(swapped)
        read_back.append(mapped_code)
        fed.append(run.generator_codes(swap_codes, np.full(len(swap_codes), label)))
        read_raw.append(own_code)
    scores["consistency"] = style_consistency(np.concatenate(mapped),
                                              np.concatenate(read_back), settings.seed)
    scores["consistency_own_code"] = style_consistency(np.concatenate(fed),
                                                       np.concatenate(read_raw), settings.seed)
    scores["consistency_parts"] = consistency_parts(
        swap_codes[:, kept], np.stack(read_back)[..., kept], np.stack(fed)[..., kept],
        np.stack(read_raw)[..., kept], data.test[1][chosen], settings.seed)
    if FactorSource.available(data):
        source = FactorSource(data, settings.seed)
        n_train = min(settings.factor_train_size, n_probe)
        n_test = settings.factor_test_count(len(test_codes))
        values = dis.factor_scores(train_codes[:n_train], source.real("train", n_train),
                                   test_codes[:n_test], source.real("test", n_test),
                                   source.categorical, settings.seed)
        scores["factor_r2"] = {name: float(v) for name, v in zip(source.names, values)}
    return scores


def consistency_parts(sources, read_back, fed, read_raw, source_labels, seed: int = 0) -> dict:
    """Where the style consistency of swaps comes from. sources (N, D): the source codes;
    read_back (L, N, D): their swaps to each of L labels, re-encoded (mapped code); fed and
    read_raw (L, N, D): the same in the encoder's own code. Each part is a mean squared
    distance over the mean squared distance between random pairs, as style_consistency:
    "same_label" (the swap to the source's own label, no swap at all), by the source's
    distance from the code's centre ("inner_half", "middle_40", "outer_10" per cent) and by
    the label drawn ("per_label")."""
    mapped = consistency_ratios(np.broadcast_to(sources, read_back.shape), read_back, seed)
    own = consistency_ratios(fed, read_raw, seed)  # both (L, N)
    same = np.arange(len(read_back))[:, None] == np.asarray(source_labels)[None, :]
    radius = np.linalg.norm(sources - sources.mean(0), axis=1)
    median, top = np.quantile(radius, [0.5, 0.9])
    rings = {"inner_half": radius < median, "middle_40": (radius >= median) & (radius < top),
             "outer_10": radius >= top}
    return {"same_label": float(mapped[same].mean()), "same_label_own_code": float(own[same].mean()),
            **{name: float(mapped[:, ring].mean()) for name, ring in rings.items()},
            "per_label": [float(row.mean()) for row in mapped]}


def pruning_mask(nats, threshold: float) -> np.ndarray:
    """The style mask that model.prune_nats = threshold gives for these nats per dimension
    (the most informative dimension when none reaches it, as in training)."""
    nats = np.asarray(nats, float)
    keep = nats >= threshold
    if not keep.any():
        keep[np.argmax(nats)] = True
    return keep.astype("float32")


def recorded_nats(run: Run) -> np.ndarray:
    """The information per code dimension that the run's pruning measured (run.json)."""
    from infoae.rundir import read_run_info

    nats = read_run_info(run.run_dir).get("style_dims", {}).get("nats")
    if not isinstance(nats, list) or len(nats) != run.config.model.style_dim:
        raise ValueError(f"run.json in '{run.run_dir}' records no information per style "
                         "dimension (the run was not pruned), so other pruning thresholds "
                         "cannot be scored; leave out --prune-nats")
    return np.asarray(nats, float)


def sweep(run: Run, data: DigitData, names: list[str], sources: int = 1000,
          prune_nats: list[float] | None = None) -> list[dict]:
    """score_map of the run under each named map, for each pruning threshold in prune_nats
    (None: the run's own mask); the run itself is left as it is."""
    specs = [parse_map(name) for name in names]  # every name checked before any work
    nats = recorded_nats(run) if prune_nats else None
    own_mask = np.array(run.model.style_mask, copy=True)
    rows = []
    try:
        for threshold in prune_nats or [None]:
            if threshold is not None:
                run.model.style_mask = pruning_mask(nats, threshold)
            extra = {} if threshold is None else {"prune_nats": float(threshold)}
            extra["dims_kept"] = int(np.count_nonzero(run.model.style_mask))
            for name, spec in zip(names, specs):
                mapped = Run(run.run_dir, run.model, run.config, fit_map(run, data, spec),
                             run.weights)
                rows.append({"map": name, **extra, **score_map(mapped, data, sources)})
    finally:
        run.model.style_mask = own_mask
    return rows


def markdown(rows: list[dict], factors: list[str] | None = None) -> str:
    """The sweep as a markdown table (factors: which factor R^2 columns; all by default), and
    where each row's consistency comes from as a second table when the rows have its parts."""
    names = factors if factors is not None else list(rows[0].get("factor_r2", {}))
    pruned = "prune_nats" in rows[0]

    def table(head: list[str], cells) -> list[str]:
        """A line per row: the map (and pruning threshold), then cells(row)."""
        head = ["map", *(["prune nats"] if pruned else []), *head]
        return markdown_table(head, (
            [row["map"], *([f"{row['prune_nats']:g}"] if pruned else []), *cells(row)]
            for row in rows))

    def scores(row) -> list[str]:
        return [str(row["dims_kept"]),
                *(f"{row[k]:.4f}" for k in ("leak_mlp", "leak_linear", "consistency",
                                            "consistency_own_code")),
                *(f"{row['factor_r2'][n]:.3f}" for n in names)]

    def parts(row) -> list[str]:
        part = row["consistency_parts"]
        worst = int(np.argmax(part["per_label"]))
        return [f"{part['same_label']:.4f} / {part['same_label_own_code']:.4f}",
                *(f"{part[ring]:.4f}" for ring in ("inner_half", "middle_40", "outer_10")),
                f"{worst} ({part['per_label'][worst]:.4f})"]

    lines = table(["dims", "leak MLP", "leak linear", "consistency", "in the encoder's own code",
                   *[f"{n} R^2" for n in names]], scores)
    if all("consistency_parts" in row for row in rows):
        lines += ["", *table(["same label, mapped / own code", "sources' inner half",
                              "middle 40%", "outer 10%", "least consistent label"], parts)]
    return "\n".join(lines)
