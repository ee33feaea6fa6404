"""scripts/class_map_sweep.py: other class maps refitted on a trained run's codes, scored."""

import json
import subprocess
import sys

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
    rows_printed = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows_printed) == 5 and "slant R^2" in rows_printed[0]  # head and one line per row
    for row in rows:
        assert 0.0 <= row["leak_linear"] <= 1.0 and 0.0 <= row["leak_mlp"] <= 1.0
        assert set(row["factor_r2"]) >= {"thickness", "slant"}
    # Without a map the mapped code is the encoder's own: both consistencies are one figure.
    assert rows[0]["consistency"] == pytest.approx(rows[0]["consistency_own_code"])
    assert rows[1]["consistency"] != pytest.approx(rows[1]["consistency_own_code"])
    assert {p.name: p.stat().st_mtime_ns for p in trained_run.iterdir()} == before


def test_pruning_mask_keeps_what_reaches_the_threshold():
    from infoae.evaluation.class_maps import pruning_mask

    assert pruning_mask([0.05, 0.2, 0.1, 3.0], 0.1).tolist() == [0, 1, 1, 1]
    assert pruning_mask([0.05, 0.2, 0.1, 3.0], 5.0).tolist() == [0, 0, 0, 1]


def test_map_names_take_their_options():
    from infoae.evaluation.class_maps import parse_map

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
