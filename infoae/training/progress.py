"""The training console: one short line per epoch with the few figures that say whether
training goes well, the whole run's progress and the time left; every figure of every epoch
is in logs/training.csv and TensorBoard.

    epoch  3/10  4m12s, ~9m48s left | recon 0.0452  content 97.9%  adversary 13.6% (chance 10%)
      epoch-end monitor, 500 validation codes, one MLP probe: leak 11.7%, swaps 99.9%

(lines of at most 100 characters; the monitor's line where train.monitor_size > 0: a quick
reading on a few validation images, not the evaluation's figures, which `infoae evaluate`
computes with a panel of probes on the test split). On a terminal the current epoch's
progress is redrawn in place at most once a second (a carriage return, no backspaces); in a
log file only the epoch lines appear.
"""

from __future__ import annotations

import sys
import time

import keras

# (label, log key, shown as a percentage): the first of each row's keys that a model logs.
FIGURES = (
    ("recon", ("val_reconstruction", "reconstruction", "val_loss", "loss"), False),
    ("content", ("val_content_acc", "content_acc"), True),
    ("adversary", ("val_adversary_acc", "adversary_acc"), True),
)
MONITOR = (("leak", "mon_leak_mlp"), ("swaps", "mon_swap_acc"))
WIDTH = 100


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def epoch_line(epoch: int, epochs: int, elapsed: float, left: float, logs: dict,
               num_classes: int = 10, monitored: int = 0) -> str:
    """The console lines of one finished epoch (epoch counts from 1): the training figures,
    then the monitor's where the logs have them (monitored: its validation images)."""
    parts = []
    for label, keys, percent in FIGURES:
        key = next((k for k in keys if k in logs), None)
        if key is None:
            continue
        value = float(logs[key])
        shown = f"{100 * value:.1f}%" if percent else f"{value:.4f}"
        if label == "adversary":
            shown += f" (chance {100 / num_classes:.0f}%)"
        parts.append(f"{label} {shown}")
    line = (f"epoch {epoch:>{len(str(epochs))}}/{epochs}  {_duration(elapsed)}, "
            f"~{_duration(left)} left | " + "  ".join(parts))[:WIDTH]
    monitor = [f"{label} {100 * float(logs[key]):.1f}%" for label, key in MONITOR if key in logs]
    if monitor:
        codes = f"{monitored} validation codes" if monitored else "validation codes"
        line += (f"\n  epoch-end monitor, {codes}, one MLP probe: " + ", ".join(monitor))[:WIDTH]
    return line


class ConsoleProgress(keras.callbacks.Callback):
    """Prints epoch_line after every epoch (and, on a terminal, the epoch's progress)."""

    epoch = 0

    def __init__(self, epochs: int, initial_epoch: int = 0, steps: int = 0,
                 num_classes: int = 10, stream=None, monitored: int = 0):
        super().__init__()
        self.monitored = monitored
        self.epochs, self.initial_epoch, self.steps = epochs, initial_epoch, steps
        self.num_classes = num_classes
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = self.drawn = 0.0

    def on_train_begin(self, logs=None):
        self.started = time.time()
        if self.initial_epoch:
            print(f"Continuing at epoch {self.initial_epoch + 1} of {self.epochs}.",
                  file=self.stream, flush=True)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        now = time.time()
        if not self.tty or now - self.drawn < 1.0 or not self.steps:
            return
        self.drawn = now
        text = (f"epoch {self.epoch + 1}/{self.epochs}: step {batch + 1}/{self.steps}  "
                f"{_duration(now - self.started)}")
        print("\r" + text.ljust(WIDTH - 1)[:WIDTH - 1], end="", file=self.stream, flush=True)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.time() - self.started
        done = epoch + 1 - self.initial_epoch
        left = elapsed / max(done, 1) * (self.epochs - epoch - 1)
        line = epoch_line(epoch + 1, self.epochs, elapsed, left, logs or {}, self.num_classes,
                          self.monitored)
        print(("\r" if self.tty else "") + line.ljust(WIDTH - 1 if self.tty else 0),
              file=self.stream, flush=True)
