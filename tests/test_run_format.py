"""Run directories across versions: old formats load and compute the same, newer ones are
refused with one line."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import infoae
from infoae.cli import main
from infoae.errors import RunDirError
from infoae.rundir import FORMAT_VERSION

FORMAT1 = Path(__file__).parent / "data" / "run_format1"


def test_a_run_written_before_the_format_version_loads_and_computes_the_same():
    run = infoae.load_run(FORMAT1)
    expected = np.load(FORMAT1 / "expected.npz")
    assert run.num_classes == 10 and run.image_shape == (28, 28, 1)
    assert run.model.style_mask.tolist() == [1.0, 0.0, 0.0, 0.0]  # kept = [0] in run.json
    np.testing.assert_allclose(run.encode_style(expected["images"]), expected["codes"], atol=1e-5)
    np.testing.assert_allclose(run.predict_content(expected["images"]), expected["content"],
                               atol=1e-5)
    labels = np.arange(len(expected["codes"])) % 10
    np.testing.assert_allclose(run.generate(expected["codes"], labels), expected["generated"],
                               atol=1e-5)


def _copy_with_info(tmp_path, **changes) -> Path:
    run_dir = tmp_path / "run"
    shutil.copytree(FORMAT1, run_dir)
    info = json.loads((run_dir / "run.json").read_text())
    info.update(changes)
    (run_dir / "run.json").write_text(json.dumps(info))
    return run_dir


def test_a_newer_format_is_refused_with_one_line(tmp_path, capsys):
    run_dir = _copy_with_info(tmp_path, format=FORMAT_VERSION + 1)
    with pytest.raises(RunDirError, match="newer than this infoae reads.*upgrade"):
        infoae.load_run(run_dir)
    assert main(["swap", str(run_dir), "--out", str(tmp_path / "grid.png")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and f"format {FORMAT_VERSION + 1}" in error


def test_a_damaged_run_json_is_one_line(tmp_path, capsys):
    run_dir = _copy_with_info(tmp_path)
    (run_dir / "run.json").write_text("{not json")
    assert main(["swap", str(run_dir), "--out", str(tmp_path / "grid.png")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "run.json" in error and "not valid JSON" in error


@pytest.mark.parametrize("kept", [[99], [], "0", [0.5], [True]])
def test_bad_kept_dimensions_are_refused(tmp_path, kept):
    run_dir = _copy_with_info(tmp_path, style_dims={"kept": kept})
    with pytest.raises(RunDirError, match="kept style dimensions.*indices 0..3|records style_dims"):
        infoae.load_run(run_dir)


@pytest.mark.parametrize("field, value", [
    ("num_classes", "ten"), ("num_classes", 0), ("num_classes", True), ("image_shape", "28x28"),
    ("image_shape", [28, 28]), ("split_sizes", []), ("style_dims", "all"), ("seed", -1),
    ("weights", "model.weights.h5")])
def test_run_json_fields_of_the_wrong_type_are_one_line(tmp_path, capsys, field, value):
    run_dir = _copy_with_info(tmp_path, **{field: value})
    assert main(["swap", str(run_dir), "--out", str(tmp_path / "grid.png")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and f"records {field} = " in error and "must be" in error
    assert main(["compare", str(run_dir)]) == 2  # (no metrics.json: also one line)


def test_class_map_verb_adds_and_removes_a_class_map(tmp_path, capsys):
    run_dir = _copy_with_info(tmp_path)
    assert main(["class-map", str(run_dir), "--kind", "gaussian", "--no-evaluate"]) == 0
    info = json.loads((run_dir / "run.json").read_text())
    assert info["format"] == FORMAT_VERSION and info["class_map"]["kind"] == "gaussian"
    assert 'class_map = "gaussian"' in (run_dir / "config.toml").read_text()
    run = infoae.load_run(run_dir)
    assert set(run.class_maps) == {"kept", "all"}
    images = np.load(FORMAT1 / "expected.npz")["images"]
    labels = run.predict_content(images).argmax(1)
    codes = run.encode_style(images)
    assert not np.allclose(codes, run.encode_style(images, normalised=False))
    # One pass gives both codes, each as its own call gives it.
    own, mapped = run.style_codes(images)
    np.testing.assert_allclose(own, run.encode_style(images, normalised=False), atol=1e-6)
    np.testing.assert_allclose(mapped, codes, atol=1e-6)
    # Generating inverts the map: the same images as from the encoder's own code.
    np.testing.assert_allclose(run.generate(codes, labels), run.model.generate(
        run.encode_style(images, normalised=False), labels).numpy(), atol=1e-3)
    assert (run_dir / "class_map.npz").is_file()
    # The command's old name still works.
    assert main(["normalise", str(run_dir), "--kind", "none", "--no-evaluate"]) == 0
    assert not (run_dir / "class_map.npz").exists()
    assert infoae.load_run(run_dir).class_maps == {}


def test_normalise_verb_prunes_again_at_another_threshold(tmp_path, capsys):
    run_dir = _copy_with_info(tmp_path)
    before = (run_dir / "run.json").read_text()
    assert main(["normalise", str(run_dir), "--kind", "none", "--prune-nats", "-1",
                 "--no-evaluate"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "--prune-nats" in error
    assert (run_dir / "run.json").read_text() == before  # Refused before anything is written.
    # 0 keeps every dimension: no mask in run.json, every code dimension used.
    assert main(["normalise", str(run_dir), "--kind", "none", "--prune-nats", "0",
                 "--no-evaluate"]) == 0
    assert "style_dims" not in json.loads((run_dir / "run.json").read_text())
    assert "prune_nats = 0.0" in (run_dir / "config.toml").read_text()
    assert infoae.load_run(run_dir).model.style_mask.tolist() == [1.0] * 4
    # A threshold above every dimension keeps the most informative one (never an empty code),
    # measured again on the run's training images and recorded with the threshold.
    assert main(["normalise", str(run_dir), "--kind", "none", "--prune-nats", "1e9",
                 "--no-evaluate"]) == 0
    dims = json.loads((run_dir / "run.json").read_text())["style_dims"]
    assert dims["threshold_nats"] == 1e9 and dims["kept"] == [int(np.argmax(dims["nats"]))]
    assert dims["threshold_met"] is False
    # The line says what was done, never that the threshold was met.
    out = capsys.readouterr().out
    assert "no dimension carries 1000000000.0 nats" in out and "below the threshold" in out
    assert ">= 1000000000.0 nats" not in out
    assert infoae.load_run(run_dir).model.style_mask.sum() == 1.0
