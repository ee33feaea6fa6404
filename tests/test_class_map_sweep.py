"""scripts/class_map_sweep.py: other class maps refitted on a trained run's codes, scored."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import ROOT

SCRIPT = ROOT / "scripts" / "class_map_sweep.py"


def test_sweep_scores_each_map_and_leaves_the_run_alone(trained_run, tmp_path, capsys):
    sys.path.insert(0, str(SCRIPT.parent))
    from class_map_sweep import main

    before = {p.name: p.stat().st_mtime_ns for p in trained_run.iterdir()}
    out = tmp_path / "sweep.json"
    maps = ["none", "gaussian:layers=5:knots=9"]
    assert main([str(trained_run), "--maps", *maps, "--prune-nats", "0", "1e9",
                 "--sources", "60", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [(row["map"], row["prune_nats"]) for row in rows] == [
        (maps[0], 0.0), (maps[1], 0.0), (maps[0], 1e9), (maps[1], 1e9)]
    # Threshold 0 keeps every dimension; one no dimension reaches keeps the most informative.
    assert [row["dims_kept"] for row in rows] == [16, 16, 1, 1]
    table = capsys.readouterr().out
    scores, parts = table.strip().split("\n\n")  # the scores, then where the consistency comes from
    for printed, column in ((scores, "slant R^2"), (parts, "outer 10%")):
        rows_printed = [line for line in printed.splitlines() if line.startswith("| ")]
        assert len(rows_printed) == 5 and column in rows_printed[0]  # head, a line per row
        assert [line.split(" | ")[1] for line in rows_printed[1:]] == ["0", "0", "1e+09", "1e+09"]
    for row in rows:
        assert 0.0 <= row["leak_linear"] <= 1.0 and 0.0 <= row["leak_mlp"] <= 1.0
        assert row["leak_mlp"] == max(row["leak_mlp_probes"]) and len(row["leak_mlp_probes"]) == 2
        assert set(row["factor_r2"]) >= {"thickness", "slant"}
    # Without a map the mapped code is the encoder's own: both consistencies are one figure.
    assert rows[0]["consistency"] == pytest.approx(rows[0]["consistency_own_code"])
    assert rows[1]["consistency"] != pytest.approx(rows[1]["consistency_own_code"])
    assert set(rows[1]["consistency_parts"]) >= {"same_label", "outer_10", "per_label"}
    assert "least consistent label" in table
    assert {p.name: p.stat().st_mtime_ns for p in trained_run.iterdir()} == before


def test_pruning_mask_keeps_what_reaches_the_threshold():
    from infoae.evaluation.class_map_sweep import pruning_mask

    assert pruning_mask([0.05, 0.2, 0.1, 3.0], 0.1).tolist() == [0, 1, 1, 1]
    assert pruning_mask([0.05, 0.2, 0.1, 3.0], 5.0).tolist() == [0, 0, 0, 1]


def test_consistency_parts_find_the_label_and_sources_that_lose_their_style():
    from infoae.evaluation.class_map_sweep import consistency_parts

    rng = np.random.default_rng(0)
    sources = rng.normal(size=(200, 3))
    read_back = sources[None] + 0.05 * rng.normal(size=(10, 200, 3))
    read_back[2] += 1.0  # swaps to a 2 lose their style
    far = np.linalg.norm(sources - sources.mean(0), axis=1) >= np.quantile(
        np.linalg.norm(sources - sources.mean(0), axis=1), 0.9)
    read_back[:, far] += 0.5  # and so do the outermost sources
    labels = np.arange(200) % 10
    parts = consistency_parts(sources, read_back, read_back, sources[None] + 0 * read_back, labels)
    assert int(np.argmax(parts["per_label"])) == 2
    assert parts["outer_10"] > 3 * parts["middle_40"]
    assert parts["inner_half"] == pytest.approx(parts["middle_40"], rel=0.3)
    # The own-code figures compare fed and read-back codes of the own code alone.
    assert parts["same_label_own_code"] > 0 and parts["same_label"] == pytest.approx(
        np.mean(np.sum((read_back[labels, np.arange(200)] - sources) ** 2, 1))
        / np.mean(np.sum((sources - sources[np.random.default_rng(0).permutation(200)]) ** 2, 1)),
        rel=0.3)


def test_map_names_take_their_options():
    from infoae.evaluation.class_map_sweep import parse_map

    spec = parse_map("gaussian:layers=7:sampled:align")
    assert (spec["layers"], spec["sampled"], spec["align"]) == (7, True, True)
    assert parse_map("gaussian")["sampled"] is False
    with pytest.raises(ValueError, match="only the gaussian map takes options"):
        parse_map("moments:sampled")


def test_sweep_refuses_a_bad_map_name_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "--maps", "gaussian:layer=3"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "layers=N" in result.stderr
