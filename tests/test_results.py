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


# The results files that hold a table (others, such as photo_check.json, hold a check's output).
TABLES = [path for path in sorted((ROOT / "results").glob("*.json"))
          if {"entries", "metrics"} & set(json.loads(path.read_text()))]


@pytest.mark.parametrize("results_file", TABLES, ids=lambda p: p.name)
def test_every_table_in_the_docs_is_its_results_file(results_file):
    name = f"results/{results_file.name}"
    table = render(json.loads(results_file.read_text()))
    found = []
    for page in PAGES:
        for match in re.finditer(rf"<!-- {re.escape(name)} -->\n(.*?)<!-- end -->",
                                 page.read_text(), re.S):
            found.append(page.name)
            assert match.group(1).strip() == table.strip(), page.name
    assert found, f"no page shows {name}"
