"""Several seeds of one config: `infoae seeds`, and `infoae compare` as mean +- sd."""

import json

import pytest

from infoae.cli import main
from infoae.config import load_config, save_config
from infoae.evaluation.compare import compare_table, seed_groups

from tests.helpers import QUICKSTART, TWO_PROBES, TINY_HEAD, sets


def _fake_run(directory, seed, leak, overrides=()):
    directory.mkdir(parents=True)
    save_config(load_config(overrides=[f"train.seed={seed}", *overrides]),
                directory / "config.toml")
    metrics = {"content_acc": 0.99, "style_leak_linear": 0.1, "style_leak_mlp": leak,
               "swap_acc": 0.98, "style_consistency": 0.05, "recon_mse": 0.02, "fdd": 20.0}
    (directory / "metrics.json").write_text(json.dumps(
        {"metrics": metrics, "settings": {"dataset": "mnist"}, "style_code": {"dims_kept": [1]}}))
    (directory / "run.json").write_text(json.dumps({"train_seconds": 100.0 + seed}))
    return directory


def test_runs_that_differ_only_in_seed_become_one_mean_sd_row(tmp_path):
    runs = [_fake_run(tmp_path / f"a{s}", s, leak) for s, leak in ((0, 0.1), (1, 0.2), (2, 0.3))]
    other = _fake_run(tmp_path / "b", 0, 0.5, ["loss.kl=0.01"])
    assert seed_groups([*runs, other]) == [[str(r) for r in runs], [str(other)]]
    table = compare_table([*runs, other])
    lines = table.splitlines()
    assert lines[2].startswith("| a0 (3 seeds: 0, 1, 2) |")
    assert "0.2000 +- 0.1000" in lines[2]            # leak MLP: mean 0.2, sample sd 0.1
    assert "| 0.9900 +- 0.0000 |" in lines[2]          # content, the same in every seed
    assert lines[3].startswith("| b |") and "0.5000" in lines[3]
    assert "loss.kl = 0.003 / 0.01" in table and "mean and standard deviation" in table
    # Without grouping, one row per run.
    assert len(compare_table([*runs, other], group_seeds=False).splitlines()) == 2 + 4 + 2


TINY = ["train.verbose=0", "train.epochs=1", "data.train_limit=512", "train.monitor_size=0",
        "model.encoder_filters=[8, 8, 16]", "model.generator_filters=[16, 8, 8]",
        "model.encoder_dense=32", "evaluate.judge_epochs=1", "evaluate.swap_size=50",
        "evaluate.probe_train_size=400", "evaluate.factor_metrics=false", TWO_PROBES, *TINY_HEAD]


@pytest.mark.slow
def test_seeds_verb_trains_each_seed_once(tmp_path, capsys):
    prefix = tmp_path / "tiny"
    args = ["seeds", "--config", QUICKSTART, "--seeds", "3", "4", "--run-dir", str(prefix),
            *sets(TINY)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "(2 seeds: 3, 4)" in out and " +- " in out
    assert (tmp_path / "tiny-seed3" / "metrics.json").is_file()
    assert load_config(tmp_path / "tiny-seed4" / "config.toml").train.seed == 4
    assert main(args) == 0  # Again: both runs are reused, nothing is trained.
    assert capsys.readouterr().out.count("reused") == 2
    # Other settings under the same prefix are refused before anything is trained.
    assert main([*args, "--set", "loss.kl=0.5"]) == 2
    assert "other settings" in capsys.readouterr().err


@pytest.mark.parametrize("seeds", [["1", "1"], ["-1"], [str(2**31)]])
def test_bad_seed_lists_are_refused(tmp_path, capsys, seeds):
    assert main(["seeds", "--config", QUICKSTART, "--run-dir", str(tmp_path / "x"),
                 "--seeds", *seeds]) == 2
    assert "--seeds must be distinct integers" in capsys.readouterr().err


@pytest.mark.slow
def test_seeds_verb_puts_several_methods_in_one_table(tmp_path, capsys):
    cycle = tmp_path / "cycle.toml"
    cycle.write_text(f'base = "{QUICKSTART}"\n[model]\nkind = "cyclevae"\n'
                     'class_map = "none"\nprune_nats = 0.0\n')
    prefix = tmp_path / "m"
    # Every config is checked before the first training: a bad one stops all of them.
    assert main(["seeds", "--config", QUICKSTART, str(tmp_path / "missing.toml"), "--seeds",
                 "0", "--run-dir", str(prefix), *sets(TINY)]) == 2
    assert not list(tmp_path.glob("m-*"))
    capsys.readouterr()
    assert main(["seeds", "--config", QUICKSTART, str(cycle), "--seeds", "0", "--run-dir",
                 str(prefix), *sets(TINY)]) == 0
    table = capsys.readouterr().out
    for name in ("m-quickstart-seed0", "m-cycle-seed0"):
        assert (tmp_path / name / "metrics.json").is_file()
        assert (tmp_path / name / "report.html").is_file()  # A method's report, too.
        assert f"| {name} |" in table
    assert "model.kind" in table  # The settings that differ are listed under the table.
