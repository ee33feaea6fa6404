"""What the report's pages share: the headline table's rows, figures as inline PNGs, the
training curves, and the Jinja2 templates (infoae/templates)."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

from infoae.evaluation.targets import HEADLINE, meets, value_at

# The goals of full-size datasets, shown (marked) for their samples too.
GOAL_DATASET = {"mnist_sample": "mnist"}


def fmt(value, percent: bool) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return f"{fmt(value[0], percent)} ± {fmt(value[1], percent)}"
    return f"{100 * value:.2f}%" if percent else (f"{value:.1f}" if abs(value) >= 100
                                                  else f"{value:.4f}")


def status(item, value, goal) -> str:
    """"met" or "missed" for a headline figure (a (mean, sd) pair by its mean), "" where it or
    its goal is absent."""
    if value is None or goal is None:
        return ""
    return "met" if meets(item, value[0] if isinstance(value, tuple) else value, goal) else "missed"


def goal_text(item, goal) -> str:
    return "-" if goal is None else f"{'≥' if item.higher else '≤'} {fmt(goal, item.percent)}"


def headline_rows(report: dict, dataset: str) -> list[dict]:
    """The headline figures of one metrics.json: label, value, goal, published, status."""
    rows = []
    goals_of = GOAL_DATASET.get(dataset, dataset)
    for item in HEADLINE:
        value = value_at(report, item.path)
        if value is None:
            continue
        goal = item.goals.get(goals_of)
        rows.append({"label": item.label, "value": fmt(value, item.percent),
                     "goal": goal_text(item, goal),
                     "published": "-" if item.published is None else
                     f"{fmt(item.published[0], item.percent)} ({item.published[1]})",
                     "status": status(item, value, goal)})
    return rows


def png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def plt_module():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def training_log(csv_path: Path) -> dict[str, list[float]] | None:
    """The training log's columns as numbers, or None where it is missing, empty or damaged
    (a page then says it has no readable log rather than failing)."""
    try:
        with open(csv_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            return None
        columns = {name: [float(row[name]) for row in rows] for name in rows[0]}
        columns["epoch"] = [int(e) + 1 for e in columns["epoch"]]
        return columns
    except (OSError, KeyError, ValueError, TypeError, csv.Error, UnicodeDecodeError):
        return None


def curves(csv_path: Path, num_classes: int) -> str | None:
    """Every active loss per epoch (training solid, validation dashed) and the adversary's
    accuracy against chance; None without a readable training log."""
    from infoae.model.losses import TERMS

    log = training_log(csv_path)
    if log is None:
        return None
    names = [t.name for t in TERMS if t.name in log] + ["adversary_acc"]
    plt = plt_module()
    columns = 4
    figure, axes = plt.subplots(-(-len(names) // columns), columns,
                                figsize=(3.2 * columns, 2.4 * -(-len(names) // columns)),
                                squeeze=False)
    for ax, name in zip(axes.flat, names):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + name in log:
                ax.plot(log["epoch"], log[prefix + name], style,
                        label="validation" if prefix else "training")
        if name == "adversary_acc":
            ax.axhline(1.0 / num_classes, color="grey", lw=0.8, label="chance")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    figure.tight_layout()
    return png(figure)


def template(name: str):
    import jinja2

    environment = jinja2.Environment(loader=jinja2.PackageLoader("infoae", "templates"),
                                     autoescape=jinja2.select_autoescape(["html"]))
    return environment.get_template(f"{name}.html")
