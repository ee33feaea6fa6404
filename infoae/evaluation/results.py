"""Results as data: the figures behind a results table, gathered from run directories into a
JSON file under results/, and the markdown table made from that file alone
(scripts/results_table.py; tests/test_results.py checks that the tables in the docs are the
files' tables).

A file holds {"table": name, "about": text, "entries": [entry, ...]}; an entry is one run
scored on one split: its row and method labels, seed, split, the figures (FIGURES), what was
trained (epochs, the config keys that differ from the method's config file), and where it was
made (commit, machine, data source, the metrics file's SHA-256).

Figures whose run directories are gone are transcribed once into a file of metric rows
{"table": name, "about": text, "metrics": [{"label", "values" (one per seed), "seeds",
"unit" (one of UNITS), "goal", "source"}, ...]}, rendered as metric | mean +- sd | seeds |
goal; with "layout": "seeds" (and the file's "seeds"), as metric | one column per seed |
mean +- sd | goal. A file with "columns" (methods or configs side by side) holds per metric
one cell per column: a list of per-seed values, {"mean", "sd"} where only those were kept,
or text; a cell may carry a "note" shown after it, and a metric's "best" ("min" or "max")
sets the best mean in bold.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from infoae.evaluation.targets import value_at
from infoae.rundir import (file_digest, load_run_config, metrics_file, read_metrics,
                           read_run_info)
from infoae.tables import markdown_table

# (column, path in the metrics report, shown as a percentage)
FIGURES = (
    ("leak MLP", ("metrics", "style_leak_mlp"), True),
    ("floor", ("style_code", "floor", "majority"), True),
    ("bits (of 3.32)", ("style_code", "information", "style_leak_mlp", "bits"), False),
    ("leak MLP unmapped", ("style_code", "leak_mlp_unnormalised"), True),
    ("leak linear", ("metrics", "style_leak_linear"), True),
    ("content", ("metrics", "content_acc"), True),
    ("swaps", ("metrics", "swap_acc"), True),
    ("slant err", ("factors", "swap_factor_error", "per_factor", "slant", "ratio"), False),
    ("thickness err", ("factors", "swap_factor_error", "per_factor", "thickness", "ratio"),
     False),
    ("recon MSE", ("metrics", "recon_mse"), False),
)


def entry(run_dir: str | Path, row: str, method: str, split: str = "test") -> dict:
    """One run's entry: its figures on the split and what made them."""
    run_dir = Path(run_dir)
    path = run_dir / metrics_file(split)
    report = read_metrics(path)
    info, config = read_run_info(run_dir), load_run_config(run_dir)
    return {"row": row, "method": method, "run": run_dir.name, "seed": config.train.seed,
            "split": report.get("settings", {}).get("split", "test"),
            "figures": {label: value_at(report, where) for label, where, _ in FIGURES},
            "epochs": config.train.epochs, "model": config.model.kind,
            "config": config.to_dict(), "train_seconds": info.get("train_seconds"),
            "data_source": info.get("data_source"), "commit": info.get("machine", {}).get(
                "commit"), "machine": info.get("machine") or info.get("versions", {}).get(
                "platform"), "metrics_sha256": file_digest(path)["sha256"]}


def add_entries(results_file: str | Path, entries: list[dict], table: str = "",
                about: str = "") -> dict:
    """Add entries to a results file (replacing those of the same run and split); returns the
    file's content."""
    results_file = Path(results_file)
    data = (json.loads(results_file.read_text()) if results_file.is_file()
            else {"table": table or results_file.stem, "about": about, "entries": []})
    if about:
        data["about"] = about
    keys = {(e["run"], e["split"]) for e in entries}
    data["entries"] = [e for e in data["entries"] if (e["run"], e["split"]) not in keys]
    data["entries"] += entries
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def _cell(values: list, percent: bool) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    scale, digits = (100.0, 2) if percent else (1.0, 3)
    mean = scale * float(np.mean(values))
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    sd = scale * float(np.std(values, ddof=1))
    return f"{mean:.{digits}f} +- {sd:.{digits}f}"


# How a transcribed metric is shown: (scale, decimals, suffix).
UNITS = {"percent1": (100.0, 1, "%"), "percent2": (100.0, 2, "%"), "ratio0": (1.0, 0, ""),
         "ratio1": (1.0, 1, ""), "ratio2": (1.0, 2, ""), "ratio3": (1.0, 3, ""),
         "ratio4": (1.0, 4, "")}


def _number(value: float, unit: str) -> str:
    scale, digits, suffix = UNITS[unit]
    return f"{scale * value:.{digits}f}{suffix}"


def _mean_sd(mean: float, sd: float | None, unit: str) -> str:
    """mean +- sd in the unit (the suffix after the mean only); the mean alone without sd."""
    scale, digits, _ = UNITS[unit]
    return _number(mean, unit) + ("" if sd is None else f" +- {scale * sd:.{digits}f}")


def _summary(cell, unit: str) -> tuple[str, float | None]:
    """A transcribed cell as text, and its mean (None for a text cell)."""
    if isinstance(cell, str):
        return cell, None
    if isinstance(cell, dict) and "mean" in cell:
        mean, sd = cell["mean"], cell.get("sd")
    else:
        values = np.asarray(cell["values"] if isinstance(cell, dict) else cell, float)
        mean = float(values.mean())
        sd = float(values.std(ddof=1)) if len(values) > 1 else None
    return _mean_sd(mean, sd, unit), mean


def render_columns(data: dict) -> str:
    """The markdown table of a file whose metrics hold one cell per column."""
    rows = []
    for metric in data["metrics"]:
        cells = [_summary(cell, metric.get("unit", "ratio4")) for cell in metric["cells"]]
        means = [m for _, m in cells if m is not None]
        best = {"min": min, "max": max}.get(metric.get("best", ""))
        top = best(means) if best and len(means) > 1 else None
        shown = []
        for (text, mean), cell in zip(cells, metric["cells"]):
            text = f"**{text}**" if top is not None and mean == top else text
            note = cell.get("note") if isinstance(cell, dict) else None
            shown.append(f"{text} ({note})" if note else text)
        rows.append([metric["label"], *shown])
    return "\n".join(markdown_table(["metric", *data["columns"]], rows))


def render_seeds(data: dict) -> str:
    """The markdown table of transcribed metric rows, one column per seed."""
    rows = []
    for metric in data["metrics"]:
        unit, values = metric["unit"], np.asarray(metric["values"], float)
        rows.append([metric["label"], *(_number(v, unit) for v in values),
                     _summary(values, unit)[0], metric.get("goal", "")])
    head = ["metric", *(f"seed {s}" for s in data["seeds"]), "mean +- sd", "goal"]
    return "\n".join(markdown_table(head, rows))


def render_metrics(data: dict) -> str:
    """The markdown table of a file of transcribed metric rows: the mean +- sd (n - 1) over
    the seeds of each, in its unit, beside its goal."""
    rows = []
    for metric in data["metrics"]:
        cell, _ = _summary(metric["values"], metric["unit"])
        rows.append([metric["label"], cell, ", ".join(str(s) for s in metric["seeds"]),
                     metric["goal"]])
    return "\n".join(markdown_table(["metric", "infoae", "seeds", "goal"], rows))


# What a page may show of a file of transcribed metric rows besides its own layout: "goals",
# the rows that have a goal, as metric | mean +- sd | seeds | goal (the README's short form).
VIEWS = ("goals",)


def render(data: dict, view: str = "") -> str:
    """The markdown table of a results file: one line per (row, method, epochs, split), the
    mean +- sd over its seeds (n - 1), percentages where FIGURES say so; or the table of its
    transcribed metrics, in the file's layout or the view named (VIEWS)."""
    if view == "goals":
        return render_metrics({**data, "metrics": [m for m in data["metrics"] if m.get("goal")]})
    if view:
        raise ValueError(f"unknown view {view!r}: one of {', '.join(VIEWS)}")
    if "columns" in data:
        return render_columns(data)
    if data.get("layout") == "seeds":
        return render_seeds(data)
    if "metrics" in data:
        return render_metrics(data)
    groups: dict[tuple, list[dict]] = {}
    for item in data["entries"]:
        groups.setdefault((item["row"], item["method"], item["epochs"], item["split"]),
                          []).append(item)
    head = ["row", "method", "epochs", "split", "seeds"] + [
        f"{label} %" if percent else label for label, _, percent in FIGURES]
    rows = []
    for (row, method, epochs, split), items in sorted(groups.items(), key=lambda g: (
            g[0][0], g[0][1], g[0][2])):
        seeds = ", ".join(str(i["seed"]) for i in sorted(items, key=lambda i: i["seed"]))
        rows.append([row, method, str(epochs), split, seeds] + [
            _cell([i["figures"].get(label) for i in items], percent)
            for label, _, percent in FIGURES])
    return "\n".join(markdown_table(head, rows))
