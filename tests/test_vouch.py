"""run.json vouches for the run's files (format 3): the final weights and the class map are
used only when their SHA-256 is the one recorded, the map file only when run.json names it,
and a class map refit killed at any write leaves the old state or the new one, never a mix."""

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
IMAGES = np.load(FORMAT1 / "expected.npz")["images"]


def _run(tmp_path, kind: str | None = "moments") -> Path:
    """A copy of the committed format-1 run, brought to today's format by a class-map fit."""
    run_dir = tmp_path / "run"
    shutil.copytree(FORMAT1, run_dir)
    if kind:
        assert main(["class-map", str(run_dir), "--kind", kind, "--no-evaluate"]) == 0
    return run_dir


def _one_line_error(capsys, run_dir, tmp_path) -> str:
    assert main(["swap", str(run_dir), "--out", str(tmp_path / "grid.png")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "Traceback" not in error
    return error


def test_an_older_run_loads_and_says_its_files_are_not_vouched_for(tmp_path, capsys):
    infoae.load_run(_run(tmp_path, kind=None))
    out = capsys.readouterr().out
    assert "format 1" in out and "not vouched for" in out and "infoae class-map" in out


def test_run_json_records_the_checksums_of_the_weights_and_the_map(tmp_path, capsys):
    run_dir = _run(tmp_path)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["format"] == FORMAT_VERSION == 3
    assert info["weights"]["file"] == "model.weights.h5" and len(info["weights"]["sha256"]) == 64
    assert info["class_map"]["file"] == "class_map.npz" and info["class_map"]["kind"] == "moments"
    capsys.readouterr()
    run = infoae.load_run(run_dir)
    assert "not vouched" not in capsys.readouterr().out
    assert run.class_map_path == run_dir / "class_map.npz" and set(run.class_maps) == {"kept",
                                                                                      "all"}


def test_weights_of_another_run_are_refused(tmp_path, capsys):
    run_dir = _run(tmp_path)
    run = infoae.load_run(run_dir)
    for variable in run.model.trainable_variables[:2]:  # Same architecture, other figures.
        variable.assign(variable.numpy() + 0.01)
    run.model.save_weights(str(tmp_path / "other.weights.h5"))
    shutil.copy(tmp_path / "other.weights.h5", run_dir / "model.weights.h5")
    with pytest.raises(RunDirError, match="model.weights.h5.*not the final weights.*run.json"):
        infoae.load_run(run_dir)
    assert "SHA-256 differs" in _one_line_error(capsys, run_dir, tmp_path)


def test_a_missing_replaced_or_damaged_map_is_refused(tmp_path, capsys):
    run_dir = _run(tmp_path)
    saved = (run_dir / "class_map.npz").read_bytes()
    (run_dir / "class_map.npz").unlink()  # Deleted: never silently unmapped.
    assert "class map 'class_map.npz', which is missing" in _one_line_error(capsys, run_dir,
                                                                            tmp_path)
    (run_dir / "class_map.npz").write_bytes(saved[:-100])  # Truncated.
    assert "SHA-256 differs" in _one_line_error(capsys, run_dir, tmp_path)
    info = json.loads((run_dir / "run.json").read_text())
    info["class_map"]["sha256"] = "x"  # run.json itself damaged.
    (run_dir / "run.json").write_text(json.dumps(info))
    assert "the checksum 'x'" in _one_line_error(capsys, run_dir, tmp_path)


def test_a_map_file_run_json_does_not_name_is_never_read(tmp_path):
    run_dir = _run(tmp_path, kind="none")
    plain = infoae.load_run(run_dir).encode_style(IMAGES)
    shutil.copytree(FORMAT1, tmp_path / "other")
    assert main(["class-map", str(tmp_path / "other"), "--kind", "moments", "--no-evaluate"]) == 0
    shutil.copy(tmp_path / "other" / "class_map.npz", run_dir / "class_map.npz")  # A leftover.
    run = infoae.load_run(run_dir)
    assert run.class_maps == {} and run.class_map_path is None
    np.testing.assert_array_equal(run.encode_style(IMAGES), plain)


def test_an_older_run_with_an_unrecorded_map_file_is_refused(tmp_path, capsys):
    run_dir = _run(tmp_path, kind=None)
    info = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**info, "format": 2}))
    other = _run(tmp_path / "b")
    shutil.copy(other / "class_map.npz", run_dir / "class_map.npz")
    error = _one_line_error(capsys, run_dir, tmp_path)
    assert "does not record" in error and "infoae class-map" in error


# The writes of a class map refit, in the order they happen.
STEPS = ["infoae.atomic.write_bytes", "infoae.training.style_code.write_json",
         "infoae.config.save_config", "infoae.training.style_code.remove_unnamed_class_maps"]


@pytest.fixture(scope="module")
def codes_of_kind(tmp_path_factory):
    """The codes of the run refitted with each kind, uninterrupted (computed once a kind)."""
    found = {}

    def codes(kind):
        if kind not in found:
            run_dir = _run(tmp_path_factory.mktemp(f"reference-{kind}"), kind=kind)
            found[kind] = infoae.load_run(run_dir).encode_style(IMAGES)
        return found[kind]
    return codes


@pytest.mark.slow  # 12 refits and loads (about 40 s on 2 cores).
@pytest.mark.parametrize("killed_at", range(len(STEPS)))
@pytest.mark.parametrize("change", [("moments", "gaussian"), ("moments", "none"),
                                    ("none", "moments")])
def test_a_refit_killed_at_any_write_leaves_the_old_map_or_the_new(tmp_path, monkeypatch,
                                                                   codes_of_kind, killed_at,
                                                                   change):
    old, new = change
    run_dir = _run(tmp_path, kind=old)
    before, after = codes_of_kind(old), codes_of_kind(new)
    calls = []

    def killer(target):
        import importlib

        module_name, name = target.rsplit(".", 1)
        original = getattr(importlib.import_module(module_name), name)

        def step(*args, **kwargs):
            calls.append(target)
            if target == STEPS[killed_at]:
                raise KeyboardInterrupt  # As a kill between two writes.
            return original(*args, **kwargs)
        return step

    for target in STEPS:
        monkeypatch.setattr(target, killer(target))
    assert main(["class-map", str(run_dir), "--kind", new, "--no-evaluate"]) == 130  # Ctrl-C.
    monkeypatch.undo()
    assert calls[-1] == STEPS[killed_at]
    codes = infoae.load_run(run_dir).encode_style(IMAGES)
    assert np.array_equal(codes, before) or np.array_equal(codes, after)
    committed = STEPS.index("infoae.training.style_code.write_json")
    expected = after if killed_at > committed else before
    np.testing.assert_array_equal(codes, expected)


def test_a_cache_entry_is_used_only_where_its_info_vouches_for_it(tmp_path, monkeypatch):
    import keras

    from infoae.cache import cached_network

    monkeypatch.setenv("INFOAE_CACHE", str(tmp_path))
    trained = []

    def build():
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])

    def train():
        trained.append(1)
        return build(), {"validation_acc": 0.5}

    first = cached_network("toy", {"seed": 0}, build, train)
    assert first[1:3] == ({"validation_acc": 0.5}, "trained")
    again = cached_network("toy", {"seed": 0}, build, train)
    assert again[1:3] == ({"validation_acc": 0.5}, "loaded") and len(trained) == 1
    info_file = tmp_path / "toy" / f"{first[3]}.json"
    for damaged in ("{}", "[1, 2]", "not json", json.dumps({"validation_acc": 0.5})):
        info_file.write_text(damaged)
        assert cached_network("toy", {"seed": 0}, build, train)[2] == "trained", damaged
    other = cached_network("toy", {"seed": 1}, build, train)  # Another entry's info.
    shutil.copy(tmp_path / "toy" / f"{other[3]}.json", info_file)
    assert cached_network("toy", {"seed": 0}, build, train)[2] == "trained"
    assert cached_network("toy", {"seed": 0}, build, train)[2] == "loaded"


def test_compare_says_what_to_do_for_a_damaged_or_missing_metrics_file(tmp_path, capsys):
    run_dir = _run(tmp_path, kind=None)
    assert main(["compare", str(run_dir)]) == 2
    assert "run `infoae evaluate" in capsys.readouterr().err
    (run_dir / "metrics.json").write_text("[1, 2]")
    for verb in ("compare", "report"):
        assert main([verb, str(run_dir)]) == 2
        error = capsys.readouterr().err.strip()
        assert error.count("\n") == 0 and "is damaged (not a metrics report)" in error
    (run_dir / "metrics.json").unlink()
    (run_dir / "model.weights.h5").unlink()
    assert main(["compare", str(run_dir)]) == 2
    assert "has not finished. Resume it" in capsys.readouterr().err
