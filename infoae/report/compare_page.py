"""The page comparing several runs: their headline figures side by side with each figure's
goal (runs that differ only in seed as one column, mean +- sd, coloured met / missed), each
run's notice, and each column's swap grid and training curves beside the others'."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import numpy as np

from infoae.evaluation.compare import group_row, seed_groups
from infoae.evaluation.targets import HEADLINE, value_at
from infoae.report.common import GOAL_DATASET, curves, fmt, goal_text, status, template
from infoae.rundir import METRICS_FILE, read_metrics, read_run_info


def compare_page(run_dirs) -> str:
    groups = seed_groups(run_dirs)
    columns = [_column(group) for group in groups]
    datasets = {column["dataset"] for column in columns}
    goals_of = None  # Runs of several datasets have no common goals.
    if len(datasets) == 1:
        dataset = next(iter(datasets))
        goals_of = GOAL_DATASET.get(dataset, dataset)
    table = []
    for item in HEADLINE:
        values = [column["values"].get(item.label) for column in columns]
        if all(v is None for v in values):
            continue
        goal = item.goals.get(goals_of) if goals_of else None
        table.append({"label": item.label, "goal": goal_text(item, goal),
                      "cells": [{"text": fmt(v, item.percent), "status": status(item, v, goal)}
                                for v in values]})
    notices = {column["notice"] for column in columns if column["notice"]}
    sample = goals_of and any(d in GOAL_DATASET for d in datasets)
    return template("compare").render(
        title="infoae: runs compared", columns=columns, table=table,
        runs=[str(d) for d in run_dirs], goals_of=goals_of, sample=sample,
        shared_notice=notices.pop() if len(notices) == 1 and all(
            c["notice"] for c in columns) else "",
        created=time.strftime("%Y-%m-%d %H:%M:%S"))


def _column(group: list) -> dict:
    """One column: the group's headline values (mean, sd over seeds), its dataset and notice,
    and its first run's swap grid and training curves."""
    reports = [read_metrics(Path(d) / METRICS_FILE) for d in group]
    values = {}
    for item in HEADLINE:
        found = [value_at(r, item.path) for r in reports]
        if any(v is None for v in found):
            continue
        values[item.label] = found[0] if len(found) == 1 else (float(np.mean(found)),
                                                               float(np.std(found, ddof=1)))
    first = Path(group[0])
    dataset = reports[0].get("settings", {}).get("dataset", "")
    grid = first / "figures" / "swap_grid.png"
    return {"name": group_row(group)["run"], "runs": [str(d) for d in group],
            "dataset": dataset, "notice": reports[0].get("notice", ""), "values": values,
            "swap_grid": ("data:image/png;base64," + base64.b64encode(grid.read_bytes()).decode()
                          if grid.is_file() else None),
            "curves": curves(first / "logs" / "training.csv",
                             read_run_info(first).get("num_classes", 10))}
