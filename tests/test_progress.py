"""The training console: a short line per epoch that fits a 100-column terminal."""

import io

import numpy as np

from infoae.training.progress import WIDTH, ConsoleProgress, epoch_line

# Every figure an Info-autoencoder epoch logs (logs/training.csv's header).
LOGS = {key: 0.123456 for key in (
    "adversary_acc adversary_ce code_std content_acc content_ce independence info kl loss "
    "mon_code_std mon_leak_mlp mon_recon_mse mon_swap_acc reconstruction reversal_lambda "
    "val_adversary_acc val_adversary_ce val_code_std val_content_acc val_content_ce "
    "val_independence val_info val_kl val_loss val_reconstruction val_reversal_lambda").split()}


def test_an_epoch_line_names_the_few_figures_that_matter_and_fits_100_columns():
    lines = epoch_line(3, 10, 252.0, 588.0, LOGS, monitored=500).splitlines()
    assert len(lines) == 2 and all(len(line) <= WIDTH for line in lines)
    assert lines[0].startswith("epoch  3/10  4m12s, ~9m48s left | recon 0.1235")
    for shown in ("content 12.3%", "adversary 12.3% (chance 10%)"):
        assert shown in lines[0]
    # The monitor's figures are named as what they are, not the evaluation's.
    assert lines[1] == ("  epoch-end monitor, 500 validation codes, one MLP probe: "
                        "leak 12.3%, swaps 12.3%")
    # A baseline logs other figures: its loss stands in for the reconstruction.
    assert "recon 1.0000" in epoch_line(1, 2, 5.0, 5.0, {"loss": 1.0})


def test_console_progress_prints_one_line_per_epoch_to_a_log():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    stream = io.StringIO()
    x = np.zeros((32, 3), "float32")
    model.fit(x, x[:, :1], epochs=3, batch_size=8, verbose=0,
              callbacks=[ConsoleProgress(3, steps=4, stream=stream)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and all(len(line) <= WIDTH for line in lines)
    assert lines[-1].startswith("epoch 3/3") and "\r" not in stream.getvalue()
    assert "\b" not in stream.getvalue()
