"""Every check that can fail does so before the run directory is created or emptied, and a
new run that fails before its first checkpoint leaves nothing behind."""

import shutil
from pathlib import Path

from infoae.cli import main
from tests.helpers import QUICKSTART, sets

FORMAT1 = Path(__file__).parent / "data" / "run_format1"


def test_a_batch_larger_than_the_data_is_refused_before_anything_is_written(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["train", "--config", QUICKSTART, "--run-dir", str(run_dir),
                 *sets(["train.batch_size=100000"])]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "train.batch_size=100000 is larger than" in error
    assert not run_dir.exists()
    # --overwrite of an existing run with the same mistake loses nothing.
    shutil.copytree(FORMAT1, run_dir)
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    assert main(["train", "--config", QUICKSTART, "--run-dir", str(run_dir), "--overwrite",
                 *sets(["train.batch_size=100000"])]) == 2
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()
            and not p.name.startswith(".lock")} == before


def test_an_empty_test_split_is_refused_before_training(tmp_path, capsys):
    import numpy as np

    data = tmp_path / "data"
    data.mkdir()
    images = np.random.default_rng(0).integers(0, 255, (300, 28, 28), dtype=np.uint8)
    np.savez(data / "train.npz", images=images, labels=np.arange(300) % 10)
    np.savez(data / "test.npz", images=images[:0], labels=np.zeros(0, np.int64))
    run_dir = tmp_path / "run"
    assert main(["train", "--config", QUICKSTART, "--run-dir", str(run_dir), "--data-dir",
                 str(data), *sets(["data.name=npz", "data.validation_size=50"])]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "no test images" in error and not run_dir.exists()


def test_an_interrupt_before_the_first_checkpoint_leaves_nothing_and_says_so(
        tmp_path, capsys, monkeypatch):
    import infoae.training.train as train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "fit", interrupted)
    run_dir = tmp_path / "run"
    assert main(["train", "--config", QUICKSTART, "--run-dir", str(run_dir)]) == 130
    error = capsys.readouterr().err.strip()
    assert "nothing was kept; run the same command again" in error and "--resume" not in error
    assert not run_dir.exists()


def test_a_held_lock_is_named_escaped_with_advice_that_works(tmp_path):
    import json

    import pytest
    from filelock import FileLock

    from infoae.errors import RunDirError
    from infoae.rundir import run_lock

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / ".lock.owner").write_text(json.dumps(
        {"command": "infoae train\x1b[2J\nrm -rf", "pid": 7, "host": "h", "since": "now"}))
    with FileLock(run_dir / ".lock"):  # Another process holds it.
        with pytest.raises(RunDirError) as error:
            with run_lock(run_dir, "infoae evaluate"):
                pass
        message = str(error.value)
        assert "\x1b" not in message and "\n" not in message and "\\x1b[2J\\nrm -rf" in message
        assert "--run-dir" not in message and "copy of the directory" in message
        with pytest.raises(RunDirError, match="choose another --run-dir"):
            with run_lock(run_dir, "infoae train"):
                pass


def test_temporary_files_of_killed_writers_are_removed_by_the_next_command(tmp_path):
    import os
    import subprocess

    from infoae.rundir import run_lock

    dead = subprocess.Popen(["true"])
    dead.wait()  # A process id that has ended.
    run_dir = tmp_path / "run"
    (run_dir / "figures").mkdir(parents=True)
    stale = [run_dir / f".metrics.json.{dead.pid}.tmp", run_dir / "figures" /
             f".swap_grid.png.{dead.pid}.tmp.png"]
    live = run_dir / f".report.html.{os.getppid()}.tmp"  # A running process's write.
    for path in (*stale, live):
        path.write_text("partial")
    with run_lock(run_dir, "infoae evaluate"):
        assert not any(path.exists() for path in stale) and live.exists()


def test_a_device_named_like_a_photo_is_said_not_to_be_a_regular_file(tmp_path):
    import os

    import pytest

    from infoae.errors import ImageError
    from infoae.transfer.images import load_image_file, prepare_photo

    os.symlink("/dev/zero", tmp_path / "x.png")
    with pytest.raises(ImageError, match="is not a regular file"):
        prepare_photo(tmp_path / "x.png", (28, 28, 1))
    with pytest.raises(ImageError, match="nor a regular image file"):
        load_image_file(tmp_path / "x.png", (28, 28, 1))
    with pytest.raises(ImageError, match="does not exist"):
        prepare_photo(tmp_path / "none.png", (28, 28, 1))
