"""The README's two commands, as written, so that they cannot go stale."""

import re
import shlex

import pytest

from infoae.cli import main

from tests.helpers import ROOT, TINY_HEAD, sets

README = (ROOT / "README.md").read_text()


def _commands() -> list[str]:
    """The main command and the test command (after the once-only virtual environment line)."""
    section = README.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.+?)\n```", section, re.S)
    assert blocks[0].startswith("python3 -m venv .venv")
    return blocks[1:]


def test_ci_runs_exactly_the_readme_test_command():
    main_command, test_command = _commands()
    assert "pytest" in test_command
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == test_command


@pytest.mark.slow
def test_the_main_command_trains_evaluates_and_reports(tmp_path, monkeypatch, capsys):
    """The main command as written (offline here: the packaged sample stands in), with a
    smaller model and fewer images so that it takes a minute."""
    main_command = _commands()[0]
    install, train = main_command.split(" && ")
    assert install == "python3 -m pip install -e ."
    argv = shlex.split(train)
    assert argv[:2] == ["infoae", "train"]
    argv = argv[1:]
    argv[argv.index("--run-dir") + 1] = str(tmp_path / "mnist")
    small = ["train.epochs=1", "model.encoder_filters=[8, 16, 16]",
             "model.generator_filters=[16, 16, 8]", "model.encoder_dense=32",
             "evaluate.judge_epochs=1", "evaluate.swap_size=100", "evaluate.probe_train_size=500",
             "evaluate.factor_train_size=300", "evaluate.factor_test_size=500",
             "evaluate.swap_factor_sources=50", "train.monitor_size=100", *TINY_HEAD]
    monkeypatch.chdir(ROOT)
    assert main(argv + sets(small)) == 0
    printed = capsys.readouterr()  # The console fits a 100-column terminal (with the
    # README's run directory in the lines that name it, not pytest's long temporary one).
    text = (printed.out + printed.err).replace(str(tmp_path / "mnist"), "outputs/mnist")
    wide = [line for line in text.splitlines() if len(line) > 100]
    assert not wide, wide
    for name in ("metrics.json", "report.html", "figures/swap_grid.png", "model.weights.h5"):
        assert (tmp_path / "mnist" / name).is_file(), name
    # The resolved config says what was used: offline, the sample and its 800 validation images.
    from infoae.rundir import load_run_config, read_run_info

    config, info = load_run_config(tmp_path / "mnist"), read_run_info(tmp_path / "mnist")
    assert config.data.name == info["dataset"]
    assert config.data.validation_size == info["split_sizes"]["validation"]
