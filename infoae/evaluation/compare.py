"""`infoae compare RUN_DIR...`: the metrics of evaluated runs side by side, as a markdown table.

Columns are the core metrics of every run plus, where a run has them, the factor-level ones;
a metric a run lacks shows as "-". The run's own settings that differ between the runs are
listed under the table, so the table says what was compared. Runs whose settings differ only
in train.seed form one row with the mean +- standard deviation over them (sample sd, n - 1),
and the seeds they came from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from infoae.errors import RunDirError
from infoae.evaluation.factors import mean_score
from infoae.rundir import (CONFIG_FILE, FINAL_WEIGHTS, load_run_config, metrics_file,
                           read_metrics, read_run_info)
from infoae.tables import markdown_table

CORE = (("content", "content_acc"), ("leak lin", "style_leak_linear"),
        ("leak MLP", "style_leak_mlp"), ("swap", "swap_acc"), ("style cons.", "style_consistency"),
        ("recon MSE", "recon_mse"), ("FDD", "fdd"))
SEED_KEY = "train.seed"


def _factor_columns(factors: dict) -> dict[str, float]:
    categorical = factors["categorical"]
    return {"MIG": factors["mig"]["mig"], "SAP": factors["sap"]["sap"],
            "DCI D": factors["dci"]["disentanglement"],
            "DCI C": factors["dci"]["completeness"],
            "DCI I": factors["dci"]["informativeness"],
            "style R2": mean_score(factors["style_factor_r2"], categorical),
            "content R2": mean_score(factors["content_factor_r2"], categorical),
            "swap factor err": factors["swap_factor_error"]["ratio"]}


def run_row(run_dir: str | Path, split: str = "test") -> dict[str, object]:
    """The table row of one evaluated run (its metrics of the split): column name -> value."""
    run_dir = Path(run_dir)
    path = run_dir / metrics_file(split)
    if not path.is_file():
        flag = "" if split == "test" else f" --split {split}"
        if not (run_dir / FINAL_WEIGHTS).is_file():
            raise RunDirError(f"'{run_dir}' has no {path.name} and no final weights: its training "
                              f"has not finished. Resume it (infoae train --resume --run-dir "
                              f"{run_dir}), then infoae evaluate {run_dir}{flag}.")
        raise RunDirError(f"'{run_dir}' has no {path.name}; run `infoae evaluate {run_dir}{flag}` "
                          "first.")
    report = read_metrics(path)
    row: dict[str, object] = {"run": run_dir.name,
                              "data": report.get("settings", {}).get("dataset", "?")}
    row.update({label: report["metrics"].get(key) for label, key in CORE})
    code = report.get("style_code", {})
    # The leakage's floor (the commonest class's share of the scored split) and the bits of
    # class information the probe panel finds in the code (absent from older metrics files).
    row["leak floor"] = code.get("floor", {}).get("majority")
    row["leak bits"] = code.get("information", {}).get("style_leak_mlp", {}).get("bits")
    row["leak MLP all dims"] = code.get("leak_mlp_all_dims")
    row["dims kept"] = len(code.get("dims_kept", [])) or None
    if "factors" in report:
        row.update(_factor_columns(report["factors"]))
    info = read_run_info(run_dir)
    row["train s"] = info.get("train_seconds")
    return row


# Keys that do not change what a run computes.
NOT_COMPARED = {"data.dir", "data.tfds_dir", "train.verbose"}


def differing_settings(run_dirs) -> dict[str, list[str]]:
    """Config keys whose values differ between the runs: key -> value per run."""
    configs = [load_run_config(d).to_dict() for d in run_dirs
               if (Path(d) / CONFIG_FILE).is_file()]
    if len(configs) != len(run_dirs):
        return {}
    differing = {}
    for section, values in configs[0].items():
        for key in values:
            seen = [str(c[section][key]) for c in configs]
            if len(set(seen)) > 1 and f"{section}.{key}" not in NOT_COMPARED:
                differing[f"{section}.{key}"] = seen
    return differing


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):  # (mean, sd) over seeds
        return f"{_cell(value[0])} +- {_cell(value[1])}"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.4f}"
    return str(value)


def seed_groups(run_dirs) -> list[list[str]]:
    """The runs grouped by their settings apart from train.seed (in first-seen order); a run
    whose seed a group has already stays a row of its own."""
    groups: list[tuple[str, list[int], list[str]]] = []
    for run_dir in run_dirs:
        config = (load_run_config(run_dir).to_dict() if (Path(run_dir) / CONFIG_FILE).is_file()
                  else {"run": {"dir": str(run_dir)}})
        seed = config.get("train", {}).get("seed")
        key = str({s: {k: v for k, v in values.items()
                       if f"{s}.{k}" not in NOT_COMPARED | {SEED_KEY}}
                   for s, values in config.items()})
        group = next((g for g in groups if g[0] == key and seed not in g[1]), None)
        if group is None:
            groups.append((key, [seed], [str(run_dir)]))
        else:
            group[1].append(seed)
            group[2].append(str(run_dir))
    return [members for _, _, members in groups]


def group_row(run_dirs, split: str = "test") -> dict[str, object]:
    """One row for runs that differ only in seed: mean and sd of every numeric column."""
    rows = [run_row(d, split) for d in run_dirs]
    if len(rows) == 1:
        return rows[0]
    seeds = [load_run_config(d).train.seed for d in run_dirs]
    merged: dict[str, object] = {"run": f"{rows[0]['run']} ({len(rows)} seeds: "
                                        f"{', '.join(map(str, seeds))})"}
    for column in dict.fromkeys(c for row in rows for c in row):
        values = [row.get(column) for row in rows]
        if column == "run":
            continue
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            merged[column] = (float(np.mean(values)), float(np.std(values, ddof=1)))
        else:
            merged[column] = values[0] if len(set(map(str, values))) == 1 else "/".join(
                map(str, values))
    return merged


# The columns `compare` shows unless asked for all of them (--all).
HEADLINE_COLUMNS = ("run", "data", "content", "leak MLP", "leak floor", "leak bits", "swap",
                    "recon MSE", "swap factor err", "dims kept")


def unique_runs(run_dirs) -> list[str]:
    """The run directories, each once (the first time it is named, by its resolved path)."""
    seen, unique = set(), []
    for run_dir in run_dirs:
        key = Path(run_dir).resolve()
        if key not in seen:
            seen.add(key)
            unique.append(str(run_dir))
    return unique


def compare_table(run_dirs, group_seeds: bool = True, split: str = "test",
                  all_columns: bool = True) -> str:
    """A markdown table of the runs' metrics of a split (runs that differ only in seed as one
    mean +- sd row; a run named twice, once), and the settings that differ between them;
    all_columns=False keeps the HEADLINE_COLUMNS."""
    run_dirs = unique_runs(run_dirs)
    groups = seed_groups(run_dirs) if group_seeds else [[str(d)] for d in run_dirs]
    rows = [group_row(group, split) for group in groups]
    columns = list(rows[0])
    for row in rows[1:]:
        columns += [c for c in row if c not in columns]
    if not all_columns:
        columns = [c for c in columns if c in HEADLINE_COLUMNS]
    lines = markdown_table(columns, ([_cell(row.get(c)) for c in columns] for row in rows))
    differing = differing_settings([group[0] for group in groups])
    if differing and len(groups) > 1:
        lines.append("")
        lines.append("Settings that differ: " + "; ".join(
            f"{key} = {' / '.join(values)}" for key, values in differing.items()))
    if split != "test":
        lines.append("")
        lines.append(f"Scored on the {split} split ({metrics_file(split)}), not the test split.")
    if any(len(group) > 1 for group in groups):
        lines.append("")
        lines.append("a +- b: mean and standard deviation (n - 1) over the seeds named in the row.")
    return "\n".join(lines)
