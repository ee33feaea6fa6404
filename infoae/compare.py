"""`infoae compare RUN_DIR...`: the metrics of evaluated runs side by side, as a markdown table.

Columns are the core metrics of every run plus, where a run has them, the factor-level ones;
a metric a run lacks shows as "-". The run's own settings that differ between the runs are
listed under the table, so the table says what was compared.
"""

from __future__ import annotations

from pathlib import Path

from infoae.errors import RunDirError
from infoae.factors import mean_score
from infoae.run import CONFIG_FILE, RUN_FILE, read_json

CORE = (("content", "content_acc"), ("leak lin", "style_leak_linear"),
        ("leak MLP", "style_leak_mlp"), ("swap", "swap_acc"), ("style cons.", "style_consistency"),
        ("recon MSE", "recon_mse"), ("FDD", "fdd"))


def _factor_columns(factors: dict) -> dict[str, float]:
    categorical = factors["categorical"]
    return {"MIG": factors["mig"]["mig"], "SAP": factors["sap"]["sap"],
            "DCI D": factors["dci"]["disentanglement"],
            "DCI C": factors["dci"]["completeness"],
            "DCI I": factors["dci"]["informativeness"],
            "style R2": mean_score(factors["style_factor_r2"], categorical),
            "content R2": mean_score(factors["content_factor_r2"], categorical),
            "swap factor err": factors["swap_factor_error"]["ratio"]}


def run_row(run_dir: str | Path) -> dict[str, object]:
    """The table row of one evaluated run: column name -> value."""
    run_dir = Path(run_dir)
    metrics_file = run_dir / "metrics.json"
    if not metrics_file.is_file():
        raise RunDirError(f"'{run_dir}' has no metrics.json; run `infoae evaluate {run_dir}` "
                          "first.")
    report = read_json(metrics_file)
    row: dict[str, object] = {"run": run_dir.name,
                              "data": report.get("settings", {}).get("dataset", "?")}
    row.update({label: report["metrics"].get(key) for label, key in CORE})
    code = report.get("style_code", {})
    row["dims kept"] = len(code.get("dims_kept", [])) or None
    if "factors" in report:
        row.update(_factor_columns(report["factors"]))
    info = read_json(run_dir / RUN_FILE) if (run_dir / RUN_FILE).is_file() else {}
    row["train s"] = info.get("train_seconds")
    return row


# Keys that do not change what a run computes.
NOT_COMPARED = {"data.dir", "data.tfds_dir", "train.verbose"}


def differing_settings(run_dirs) -> dict[str, list[str]]:
    """Config keys whose values differ between the runs: key -> value per run."""
    from infoae.run import load_run_config

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
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.4f}"
    return str(value)


def compare_table(run_dirs) -> str:
    """A markdown table of the runs, and the settings that differ between them."""
    rows = [run_row(d) for d in run_dirs]
    columns = list(rows[0])
    for row in rows[1:]:
        columns += [c for c in row if c not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    differing = differing_settings(run_dirs)
    if differing:
        lines.append("")
        lines.append("Settings that differ: " + "; ".join(
            f"{key} = {' / '.join(values)}" for key, values in differing.items()))
    return "\n".join(lines)
