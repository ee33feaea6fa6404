"""scripts/like_for_like.py: what it plans for each cell, and its checks before training (the
trainings themselves are the other tests' to show)."""

import importlib.util
import json

import pytest

from tests.helpers import ROOT

spec = importlib.util.spec_from_file_location("like_for_like",
                                              ROOT / "scripts" / "like_for_like.py")
lfl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lfl)


def _files(run_dir, files: dict) -> None:
    """A run directory holding these files (name: text), made for the plan to read."""
    for name, text in files.items():
        (run_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / name).write_text(text)


def test_each_cell_does_only_what_is_missing(tmp_path, capsys):
    args = ["--runs", str(tmp_path), "--seeds", "0", "1", "--dry-run", "--into"]
    assert lfl.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert "infoae seed 0: train, evaluate A, map B, evaluate B" in out
    assert "cyclevae seed 1: train, evaluate A, map B, evaluate B" in out
    assert "shipped seed 1: train, evaluate C" in out  # Row C: the shipped config, no copy.
    assert "lord seed 0: train, evaluate A, map B, evaluate B" in out
    # Seed 0 of the Info-autoencoder trained and scored on the validation split: only row B.
    _files(tmp_path / "rowA_infoae_s0", {"run.json": json.dumps({"status": "trained"}),
                                         "metrics.validation.json": "{}"})
    # Seed 1 interrupted: resumed from its checkpoint, then everything after it.
    _files(tmp_path / "rowA_infoae_s1", {"run.json": json.dumps({"status": "training"}),
                                         "checkpoints/latest.json": "{}"})
    assert lfl.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert "infoae seed 0: map B, evaluate B" in out
    assert "infoae seed 1: resume, evaluate A, map B, evaluate B" in out
    _files(tmp_path / "rowB_rowA_infoae_s0", {"metrics.validation.json": "{}"})
    assert lfl.main(args) == 0
    assert "infoae seed 0: done (reused)" in capsys.readouterr().out.splitlines()


def test_cells_are_named_as_the_table_names_them():
    cells = lfl.plan(["cyclevae"], [2], ROOT / "runs", cyclevae_epochs=5)
    assert cells[0]["A"].name == "cyclevae_pub_e5_s2" and cells[0]["B"].name == (
        "rowB_cyclevae_pub_e5_s2")
    assert "train.epochs=5" in cells[0]["overrides"] and "train.seed=2" in cells[0]["overrides"]
    shipped = lfl.plan(["shipped"], [1], ROOT / "runs", cyclevae_epochs=5)[0]
    assert shipped["A"].name == "rowC_infoae_s1" and shipped["rows"] == "C"
    assert shipped["config"] == "mnist" and shipped["overrides"] == ["train.seed=1"]
    lord = lfl.plan(["lord"], [0], ROOT / "runs", cyclevae_epochs=5)[0]
    assert lord["A"].name == "lord_cfg_s0" and lord["B"].name == "rowB_lord_cfg_s0"
    assert lord["config"] == "lord" and lord["overrides"] == ["train.seed=0"]


def test_every_setting_is_checked_before_the_first_training(tmp_path):
    with pytest.raises(SystemExit, match="model.style_dimm"):
        lfl.main(["--runs", str(tmp_path), "--seeds", "0", "--set", "model.style_dimm=3",
                  "--into"])
    assert not list(tmp_path.iterdir())
    with pytest.raises(SystemExit, match="distinct"):
        lfl.main(["--runs", str(tmp_path), "--seeds", "0", "0"])
