"""The whole job on a tiny run, for the fast tier (pytest -m "not slow"): train, evaluate, swap
grid, report, compare and class map through the CLI, in well under a minute. It shows the
pieces fit together and every file is written; what they learn is the slow tier's to show
(tests/test_end_to_end.py and the others on `trained_run`)."""

import json

import numpy as np
import pytest

import infoae
from infoae.cli import main
from tests.helpers import QUICKSTART, TINY_HEAD, sets

TINY_JOB = ["train.verbose=0", "train.epochs=1", "train.monitor_size=50",
            "data.train_limit=512", "data.validation_size=100", "train.batch_size=64",
            "model.encoder_filters=[8, 8, 8]", "model.generator_filters=[8, 8, 8]",
            "model.encoder_dense=16", "model.adversary_hidden=16", "model.class_map=none",
            "evaluate.judge_epochs=1", "evaluate.swap_size=20", "evaluate.probe_train_size=200",
            "evaluate.factor_train_size=200", "evaluate.factor_test_size=100",
            "evaluate.swap_factor_sources=10", 'evaluate.leak_probes=["boost"]', *TINY_HEAD]


@pytest.fixture(scope="module")
def tiny_job(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("smoke") / "run"
    assert main(["train", "--config", QUICKSTART, "--run-dir", str(run_dir),
                 *sets(TINY_JOB)]) == 0
    return run_dir


def test_the_whole_job_writes_every_file(tiny_job):
    for name in ("config.toml", "run.json", "model.weights.h5", "metrics.json", "report.html",
                 "figures/swap_grid.png", "logs/training.csv", "checkpoints/latest.json"):
        assert (tiny_job / name).is_file(), name
    report = json.loads((tiny_job / "metrics.json").read_text())
    for key in ("content_acc", "style_leak_mlp", "swap_acc", "recon_mse"):
        assert 0.0 <= report["metrics"][key] <= 1.0, key
    assert report["n"]["swap_sources"] == 20 and "factors" in report
    stages = report["stage_seconds"]  # Each stage's own time (scripts/bench.py --evaluate).
    assert set(stages) == {"codes", "judges", "swaps", "probes", "factors"}
    assert all(v >= 0 for v in stages.values()) and sum(stages.values()) <= report["elapsed_s"] + 1
    # The final weights hold no optimizer state (the checkpoints do, for --resume).
    import h5py

    checkpoint = next((tiny_job / "checkpoints").glob("*.weights.h5"))
    with h5py.File(tiny_job / "model.weights.h5") as final, h5py.File(checkpoint) as whole:
        def size(group):
            found = []
            group.visititems(lambda _, item: found.append(
                item.nbytes if isinstance(item, h5py.Dataset) else 0))
            return sum(found)
        assert size(whole["optimizer"]) > 0 and size(final["optimizer"]) == 0
        assert size(final["adversary_optimizer"]) == 0
        assert size(final) == size(whole) - size(whole["optimizer"]) - size(
            whole["adversary_optimizer"])
    run = infoae.load_run(tiny_job)
    images = np.zeros((3, 28, 28, 1), "float32")
    assert run.encode_style(images).shape == (3, run.config.model.style_dim)
    assert run.swap(images, [1, 2, 3]).shape == (3, 28, 28, 1)


def test_the_verbs_on_a_tiny_run(tiny_job, tmp_path, capsys):
    assert main(["swap", str(tiny_job), "--rows", "3", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 500
    assert main(["compare", str(tiny_job)]) == 0
    assert str(tiny_job.name) in capsys.readouterr().out
    assert main(["class-map", str(tiny_job), "--kind", "moments", "--no-evaluate"]) == 0
    assert json.loads((tiny_job / "run.json").read_text())["class_map"]["kind"] == "moments"
    assert (tiny_job / "class_map.npz").is_file()
    assert main(["class-map", str(tiny_job), "--kind", "none", "--no-evaluate"]) == 0
    assert not (tiny_job / "class_map.npz").exists()


def test_evaluate_without_the_report_leaves_it_as_it_was(tiny_job, capsys):
    page, metrics = tiny_job / "report.html", tiny_job / "metrics.json"
    report_before, metrics_before = page.read_bytes(), metrics.read_bytes()
    assert main(["evaluate", str(tiny_job), "--no-report"]) == 0
    assert "report.html" not in capsys.readouterr().out
    assert page.read_bytes() == report_before
    assert metrics.read_bytes() != metrics_before  # Scored again (its times differ).
    assert json.loads(metrics.read_text())["metrics"]["content_acc"] == json.loads(
        metrics_before)["metrics"]["content_acc"]


def test_the_validation_split_is_scored_apart_from_the_test_split(tiny_job, capsys):
    """evaluate --split validation scores the held-out part of the training images, writes
    metrics.validation.json and leaves metrics.json (the test split's) as it was."""
    before = (tiny_job / "metrics.json").read_bytes()
    assert main(["evaluate", str(tiny_job), "--split", "validation"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # As one line: the console wraps it.
    assert "validation split (100 images)" in out and "metrics.validation.json" in out
    assert (tiny_job / "metrics.json").read_bytes() == before
    report = json.loads((tiny_job / "metrics.validation.json").read_text())
    assert report["settings"]["split"] == "validation" and report["n"]["test"] == 100
    assert report["scored"]["data"]["split"] == "validation"
    code = report["style_code"]
    # The floor is the validation split's commonest class's share (100 images: 0.1 or more).
    assert 0.1 <= code["floor"]["majority"] < 0.3 and code["floor"]["chance"] == 0.1
    information = code["information"]["style_leak_mlp"]
    assert 0.0 <= information["bits"] <= information["h_y_bits"] <= np.log2(10) + 1e-9
    assert main(["compare", str(tiny_job), "--split", "validation"]) == 0
    table = capsys.readouterr().out
    assert "leak floor" in table and "Scored on the validation split" in table


def test_no_true_label_reaches_the_style_code_at_inference(tiny_job):
    """At inference the conditional encoder and the class map get the content head's class of
    each image, never its true label (which an evaluation holds only to score with); only
    Run.reconstruct takes true labels, by design, and says so."""
    from infoae.data import load_mnist_sample, to_float
    from infoae.model.class_map import ClassMap

    run = infoae.load_run(tiny_job)
    _, (images, truth) = load_mnist_sample()
    images, truth = to_float(images[:200]), truth[:200]
    predicted = run.predict_content(images).argmax(1)
    assert np.any(predicted != truth)  # A weak head, so a true label would show.
    codes = run.encode_style(images)
    run.class_maps = {"kept": ClassMap.fit(codes, truth, run.num_classes, "moments")}
    seen = {"encoder": [], "map": []}
    encode, forward = run.model.encode_style, run.class_maps["kept"].forward

    def spy_encode(x, labels=None, **kwargs):
        seen["encoder"].append(None if labels is None else np.asarray(labels))
        return encode(x, labels, **kwargs)

    def spy_forward(codes, labels):
        seen["map"].append(np.asarray(labels))
        return forward(codes, labels)

    run.model.encode_style, run.class_maps["kept"].forward = spy_encode, spy_forward
    run.encode_style(images)
    run.swap(images, truth)  # The labels here are the classes to draw, not the style's.
    run.style_codes(images)
    assert seen["map"] and all(np.array_equal(labels, predicted) for labels in seen["map"])
    given = [labels for labels in seen["encoder"] if labels is not None]
    assert all(np.array_equal(labels, predicted) for labels in given)
    from infoae.model.trained import Run

    assert "(true) label" in Run.reconstruct.__doc__
