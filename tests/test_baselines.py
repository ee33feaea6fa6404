"""The field's other methods (model.kind = "cyclevae", "lord"): each trains on the MNIST sample
through the same CLI into the same run directory, learns (content well above chance,
reconstruction falls), loads with load_run, and is evaluated and drawn like the
Info-autoencoder. The TensorFlow run trains each method at this size; the JAX run trains a
tiny one of each, and evaluates and draws one of them (test_each_method_trains_on_jax)."""

import csv

import keras
import numpy as np
import pytest

from infoae.cli import main
from infoae.config import load_config
from infoae.errors import ConfigError
from tests.helpers import FAST, SMALL_EVALUATION, sets

SMALL = ["data.name=mnist_sample", "data.train_limit=2560", "train.verbose=0",
         "train.monitor_size=200", "model.encoder_filters=[16, 32, 64]",
         "model.encoder_dense=128", "perceptual.epochs=1", "perceptual.train_size=2000",
         *[item for item in FAST if item.startswith("evaluate.")],
         "evaluate.judge_epochs=1"]  # Only the figures' ranges are asserted.
RUNS = {"cyclevae": ["train.epochs=4"],
        # The cycle-consistent VAE's run keeps the epoch-end monitor (the baselines' path
        # through it); LORD's, 7 probe fits, was a seventh of its fixture.
        "lord": ["train.epochs=5", "baseline.amortise_epochs=2", "train.batch_size=64",
                 "train.monitor_size=0"]}


ON_JAX = keras.backend.backend() == "jax"
# Each method at a tenth of the steps, with the smallest evaluation that scores every figure.
TINY = ["data.name=mnist_sample", "data.train_limit=1024", "train.verbose=0",
        "train.monitor_size=0", "train.batch_size=64", "model.encoder_filters=[8, 16, 16]",
        "model.encoder_dense=32", "model.generator_filters=[32, 16, 8]", "perceptual.epochs=1",
        "perceptual.train_size=1000", "evaluate.judge_epochs=1", "evaluate.swap_size=50",
        "evaluate.probe_train_size=500", "evaluate.factor_metrics=false",
        'evaluate.leak_probes=["boost"]']
TINY_RUNS = {"cyclevae": ["train.epochs=2"],
             "lord": ["train.epochs=3", "baseline.amortise_epochs=1"]}


@pytest.mark.slow
@pytest.mark.backends
@pytest.mark.skipif(not ON_JAX, reason="the TensorFlow run trains each method at full test size")
@pytest.mark.parametrize("kind", sorted(TINY_RUNS))
def test_each_method_trains_on_jax(tmp_path, kind):
    """On JAX (the GPU path): each method's own training step runs and lowers its
    reconstruction, the run loads; the cycle-consistent VAE is evaluated, LORD drawn (one
    test per method, so that the workers share them)."""
    from infoae.model.trained import load_run
    from infoae.rundir import read_json

    run_dir = tmp_path / kind
    assert main(["train", "--config", kind, "--run-dir", str(run_dir), "--no-evaluate",
                 *sets(TINY + TINY_RUNS[kind])]) == 0
    values = _column(run_dir, "reconstruction")
    assert np.all(np.isfinite(values)) and values[1] < values[0], f"{kind}: {values}"
    run = load_run(run_dir)
    assert run.encode_style(np.zeros((2, 28, 28, 1), "float32")).shape == (2, 16)
    if kind == "cyclevae":
        assert main(["evaluate", str(run_dir), "--no-report"]) == 0  # The report: on TensorFlow.
        metrics = read_json(run_dir / "metrics.json")["metrics"]
        for key in ("content_acc", "style_leak_mlp", "swap_acc", "recon_mse"):
            assert 0.0 <= metrics[key] <= 1.0, key
    else:
        assert main(["swap", str(run_dir)]) == 0
        assert (run_dir / "figures" / "swap_grid.png").stat().st_size > 1000


@pytest.fixture(scope="module", params=sorted(RUNS))
def baseline_run(request, tmp_path_factory):
    """One method trained on the sample (one fixture instance per method, each in its own
    xdist group, so the workers train them side by side): (kind, run directory)."""
    kind = request.param
    run_dir = tmp_path_factory.mktemp(kind) / "run"
    assert main(["train", "--config", kind, "--run-dir", str(run_dir), "--no-evaluate",
                 *sets(SMALL + RUNS[kind])]) == 0
    return kind, run_dir


def _column(run_dir, name):
    with open(run_dir / "logs" / "training.csv") as handle:
        return [float(row[name]) for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_each_method_learns_on_the_sample(baseline_run):
    from infoae.data import load_data, to_float
    from infoae.model.trained import load_run

    kind, run_dir = baseline_run
    run = load_run(run_dir)
    assert type(run.model).__name__ == {"cyclevae": "CycleVAE", "lord": "Lord"}[kind]
    data = load_data(run.config.data, 0)
    images, labels = to_float(data.test[0][:500]), data.test[1][:500]
    content = float(np.mean(run.predict_content(images).argmax(1) == labels))
    assert content > 0.4, f"{kind}: content accuracy {content} (chance 0.1)"
    # Reconstruction falls: LORD's amortised one over its encoder epochs, the cycle-VAE's
    # swapped one over all epochs.
    name = "amortised_reconstruction" if kind == "lord" else "reconstruction"
    values = _column(run_dir, name)
    first = values[-2] if kind == "lord" else values[0]
    assert values[-1] < first, f"{kind}: {name} {values}"
    assert np.all(np.isfinite(run.reconstruct(images, labels)))
    codes = run.encode_style(images)
    assert codes.shape == (500, run.config.model.style_dim) and np.all(np.isfinite(codes))
    swapped = run.generate(codes[:10], np.arange(10))
    assert swapped.shape == (10, 28, 28, 1) and 0.0 <= swapped.min() <= swapped.max() <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("baseline_run", ["cyclevae"], indirect=True)
def test_a_method_is_evaluated_and_drawn_like_the_info_autoencoder(baseline_run):
    """One method suffices: evaluation reads the Run API they share."""
    from infoae.rundir import read_json

    _, run_dir = baseline_run
    # Every stage, the factor metrics included, at the smallest sizes that score each figure.
    small = [*SMALL_EVALUATION, "evaluate.probe_train_size=1000",
             "evaluate.factor_train_size=500", "evaluate.factor_test_size=300",
             "evaluate.swap_factor_sources=50"]
    assert main(["evaluate", str(run_dir), "--no-report", *sets(small)]) == 0
    report = read_json(run_dir / "metrics.json")
    metrics, factors = report["metrics"], report["factors"]
    for key in ("content_acc", "style_leak_mlp", "swap_acc", "recon_mse"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert factors["n"]["test"] == 300 and 0.0 <= factors["mig"]["mig"] <= 1.0
    assert main(["swap", str(run_dir)]) == 0
    assert (run_dir / "figures" / "swap_grid.png").stat().st_size > 1000


def test_method_settings_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="model.kind"):
        load_config("mnist", ["model.kind=vae"])
    with pytest.raises(ConfigError, match="baseline.amortise_epochs"):
        load_config("lord", ["train.epochs=2", "baseline.amortise_epochs=2"])
    with pytest.raises(ConfigError, match="baseline.latent_learning_rate"):
        load_config("lord", ["baseline.latent_learning_rate=0"])
