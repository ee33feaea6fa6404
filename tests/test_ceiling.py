"""scripts/factor_ceiling.py: the factor R^2 that a style code without the class can reach."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import QUICKSTART, ROOT

SCRIPT = ROOT / "scripts" / "factor_ceiling.py"


def test_within_class_scores_rank_each_class_on_its_own():
    from infoae.evaluation.ceiling import within_class_scores

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 500)
    values = np.where(labels == 0, 0.0, 10.0)[:, None] + rng.normal(size=(1000, 1))
    scores = within_class_scores(values, labels, values, labels)[:, 0]
    # The class shift is gone: each class's scores are standard normal ...
    for label in (0, 1):
        assert abs(scores[labels == label].mean()) < 0.05
        assert abs(scores[labels == label].std() - 1.0) < 0.1
    # ... and within a class the order of the values is kept.
    order = np.argsort(values[labels == 1, 0])
    assert np.all(np.diff(scores[labels == 1][order]) >= 0)


@pytest.mark.slow
def test_ceiling_of_the_sample_reads_the_factor_and_not_the_class(tmp_path):
    out = tmp_path / "ceiling.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--config", QUICKSTART, "--factors",
                             "slant", "thickness+slant", "--json", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = {row["code"]: row for row in json.loads(out.read_text())}
    assert list(rows) == ["slant", "thickness+slant", "class alone"]
    slant, both, alone = rows["slant"], rows["thickness+slant"], rows["class alone"]
    # One factor's within-class ranks leave the class at chance, the class alone gives it away.
    assert slant["leak_mlp"] < 0.2 and alone["leak_mlp"] > 0.9
    # The oracle holds slant far better than the class does, and only what it is made of.
    assert slant["factor_r2"]["slant"] > 0.7 > alone["factor_r2"]["slant"]
    assert slant["factor_r2"]["thickness"] < 0.2 < both["factor_r2"]["thickness"]
    assert "| slant |" in result.stdout


def test_ceiling_refuses_an_unknown_factor_in_one_line():
    result = subprocess.run([sys.executable, str(SCRIPT), "--config", QUICKSTART, "--factors",
                             "slant+tilt"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "tilt" in result.stderr
    assert "slant" in result.stderr  # names the factors to choose from


@pytest.mark.slow
def test_a_runs_codes_are_scored_beside_the_oracle(tmp_path):
    out = tmp_path / "ceiling.json"
    run_dir = ROOT / "tests" / "data" / "run_format1"
    result = subprocess.run([sys.executable, str(SCRIPT), "--run", str(run_dir), "--factors",
                             "slant", "--train", "1500", "--test", "500", "--json", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = {row["code"]: row for row in json.loads(out.read_text())}
    assert list(rows) == ["slant", "run: style code", "run: encoder's own code",
                          "run: style code + class", "run: own code + class", "class alone"]
    # With the class beside it the code gives the class away; the run's own code alone (one
    # kept dimension of a small sample run) reads it far less well.
    assert rows["run: own code + class"]["leak_mlp"] > 0.9
    assert rows["run: encoder's own code"]["leak_mlp"] < 0.7
    assert set(rows["run: style code"]["factor_r2"]) == set(rows["slant"]["factor_r2"])
    assert "| run: style code + class |" in result.stdout


def test_ceiling_refuses_a_missing_run_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--run", str(tmp_path / "nope")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "nope" in result.stderr
