"""Results as data: the tables in the docs are made from the committed results files alone."""

import json
import re
from pathlib import Path

import pytest

from infoae.evaluation.results import FIGURES, render

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _entry(seed, leak, **changes):
    figures = {label: None for label, _, _ in FIGURES}
    figures.update({"leak MLP": leak, "floor": 0.1135, "bits (of 3.32)": 0.05})
    return {"row": "A", "method": "infoae", "run": f"r{seed}", "seed": seed, "epochs": 10,
            "split": "validation", "figures": figures, **changes}


def test_a_table_is_the_mean_and_sd_over_seeds_of_its_data():
    data = {"entries": [_entry(0, 0.12), _entry(1, 0.14), _entry(0, 0.9, method="cyclevae")]}
    lines = render(data).splitlines()
    assert lines[0].startswith("| row | method | epochs | split | seeds | leak MLP % | floor % |")
    assert lines[2].startswith("| A | cyclevae | 10 | validation | 0 | 90.00 | 11.35 | 0.050 |")
    assert lines[3].startswith("| A | infoae | 10 | validation | 0, 1 | 13.00 +- 1.41 | 11.35 +- 0.00 |")


def test_transcribed_metrics_are_the_mean_and_sd_of_their_seeds():
    data = {"metrics": [{"label": "leak", "unit": "percent1", "values": [0.1163, 0.1218, 0.1181],
                         "seeds": [0, 1, 2], "goal": "<= 13%"},
                        {"label": "slant err", "unit": "ratio2", "values": [0.4], "seeds": [0],
                         "goal": "<= 0.25"}]}
    lines = render(data).splitlines()
    assert lines[2] == "| leak | 11.9% +- 0.3 | 0, 1, 2 | <= 13% |"
    assert lines[3] == "| slant err | 0.40 | 0 | <= 0.25 |"


def test_methods_side_by_side_show_each_cell_as_kept_and_the_best_mean_in_bold():
    data = {"columns": ["ours", "theirs"], "metrics": [
        {"label": "leak", "unit": "ratio3", "best": "min",
         "cells": [[0.11, 0.13], {"mean": 0.9, "sd": 0.01, "note": "their probe"}]},
        {"label": "content", "unit": "percent2", "best": "max", "cells": [[0.99], [0.995]]},
        {"label": "epochs", "cells": ["10", "3 (64)"]}]}
    lines = render(data).splitlines()
    assert lines[0] == "| metric | ours | theirs |"
    assert lines[2] == "| leak | **0.120 +- 0.014** | 0.900 +- 0.010 (their probe) |"
    assert lines[3] == "| content | 99.00% | **99.50%** |"
    assert lines[4] == "| epochs | 10 | 3 (64) |"


def test_a_seeds_layout_shows_each_seed_then_the_mean_and_sd():
    data = {"layout": "seeds", "seeds": [0, 1, 2], "metrics": [
        {"label": "FDD", "unit": "ratio0", "values": [373, 602, 467], "goal": "<= 360"}]}
    lines = render(data).splitlines()
    assert lines[0] == "| metric | seed 0 | seed 1 | seed 2 | mean +- sd | goal |"
    assert lines[2] == "| FDD | 373 | 602 | 467 | 481 +- 115 | <= 360 |"


# The results files that hold a table (others, such as photo_check.json, hold a check's output).
TABLES = [path for path in sorted((ROOT / "results").glob("*.json"))
          if {"entries", "metrics"} & set(json.loads(path.read_text()))]


@pytest.mark.parametrize("results_file", TABLES, ids=lambda p: p.name)
def test_every_table_in_the_docs_is_its_results_file(results_file):
    name = f"results/{results_file.name}"
    data = json.loads(results_file.read_text())
    found = []
    for page in PAGES:
        for match in re.finditer(rf"<!-- {re.escape(name)}( \w+)? -->\n(.*?)<!-- end -->",
                                 page.read_text(), re.S):
            found.append(page.name)
            table = render(data, (match.group(1) or "").strip())
            assert match.group(2).strip() == table.strip(), page.name
    assert found, f"no page shows {name}"


# Figures the README quotes from the literature, each with its own protocol beside it.
PUBLISHED = {"17.56": "Jha et al."}


def test_every_figure_in_the_readmes_results_is_a_figure_of_its_tables():
    """The README's results section states no figure its data tables do not hold: each
    percentage or decimal in its prose is a table figure at the prose's precision."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## What it measures now"):]
    section = section[:section.index("\n## ", 1)]
    tables = "\n".join(re.findall(r"<!-- results/.*? -->\n(.*?)<!-- end -->", section, re.S))
    prose = re.sub(r"<!-- results/.*? -->\n.*?<!-- end -->|```.*?```|`[^`]*`|\]\([^)]*\)", " ",
                   section, flags=re.S)
    figures = [float(x) for x in re.findall(r"\d+\.\d+|\d+", tables)]
    assert tables and prose.strip()
    for shown in re.findall(r"(\d+(?:\.\d+)?)%|\b(\d+\.\d+)\b", prose):
        shown = shown[0] or shown[1]
        if shown in PUBLISHED:
            assert PUBLISHED[shown] in prose, shown
            continue
        decimals = len(shown.split(".")[1]) if "." in shown else 0
        assert any(abs(round(f, decimals) - float(shown)) < 1e-9 for f in figures), shown
