"""Config files: one TOML file per experiment, inheriting from a base file, with overrides.

A config file is TOML with the sections of ``Config``; every field has a default, so a file
only names what it changes. A file may name a base file (``base = "mnist.toml"``, a path
relative to the file itself) whose settings it starts from: ``configs/mnist.toml`` is the
fully commented reference and the other shipped configs state only what differs from it.
Command-line overrides use dotted keys: ``--set train.epochs=3``. Unknown sections or keys,
wrong types and out-of-range values raise ``ConfigError`` with a message that names the key
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infoae import atomic
from infoae.config.check import check
from infoae.config.job import DataConfig, EvaluateConfig, PerceptualConfig, TrainConfig, TransferConfig
from infoae.config.network import AdversaryConfig, BaselineConfig, LossConfig, ModelConfig
from infoae.errors import ConfigError

# Largest integer setting (seeds and sizes are passed to 32-bit code).
MAX_INT = 2**31 - 1
# The top-level key that names the file a config inherits from.
BASE_KEY = "base"
# Inheritance deeper than this is a mistake (or a loop that the path check missed).
MAX_BASE_DEPTH = 8


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
    baseline: BaselineConfig = field(default_factory=BaselineConfig)

    def validate(self) -> "Config":
        if self.model.kind == "lord":
            check("baseline.amortise_epochs", self.baseline.amortise_epochs < self.train.epochs,
                  f"fewer than train.epochs ({self.train.epochs}): LORD's latent optimisation "
                  "needs at least one epoch before the encoders are amortised")
        for section in dataclasses.fields(self):
            values = getattr(self, section.name)
            values.validate()
            for key, value in vars(values).items():  # Seeds and sizes go to 32-bit code.
                if isinstance(value, int) and not isinstance(value, bool):
                    low = 0 if key.endswith("seed") else -MAX_INT
                    check(f"{section.name}.{key}", low <= value <= MAX_INT,
                          f"an integer in [{low}, {MAX_INT}]")
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


# Keys that were renamed: the old name is still read (configs and runs written before).
RENAMED_KEYS = {("model", "class_normalise"): "class_map"}


def from_dict(raw: dict[str, Any], base: Config | None = None) -> Config:
    """Apply a nested {section: {key: value}} mapping on top of base (or the defaults); a
    renamed key's old name sets the new key."""
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
            key = RENAMED_KEYS.get((section_name, key), key)
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


# The configs that ship inside the package (the repository's configs/ points here).
PACKAGED_CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def config_path(name: str | Path) -> Path:
    """A config file's path: the file itself, or a config shipped with infoae by its name
    ("mnist" or "mnist.toml" is infoae/configs/mnist.toml) when no such file exists here."""
    path = Path(name)
    if path.is_file() or len(path.parts) > 1:
        return path
    packaged = PACKAGED_CONFIGS / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    if packaged.is_file():
        return packaged
    names = ", ".join(sorted(p.stem for p in PACKAGED_CONFIGS.glob("*.toml")))
    raise ConfigError(f"config '{name}' is neither a file nor a config shipped with infoae "
                      f"({names}); give a path to a TOML file or one of those names.")


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """Load a TOML config file (a path, or the name of a shipped config such as "mnist"; the
    defaults when None) and apply 'section.key=value' overrides."""
    config = Config()
    if path is not None:
        config = from_dict(read_config_file(config_path(path)), config)
    return with_overrides(config, overrides)


def read_config_file(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The {section: {key: value}} settings of a file, its base files' settings merged under
    them (the file's own values win)."""
    if not path.is_file():
        where = f" (the base of '{chain[-1]}')" if chain else ""
        raise ConfigError(f"config file '{path}'{where} does not exist; the shipped configs are "
                          "in configs/ (e.g. configs/mnist.toml)")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file '{path}' is not valid TOML: {error}") from None
    if BASE_KEY not in raw:
        return raw
    base = raw.pop(BASE_KEY)
    if not isinstance(base, str) or not base:
        raise ConfigError(f"'{BASE_KEY}' in '{path}' must be the path of a config file, "
                          f"relative to '{path.parent}', e.g. base = \"mnist.toml\"")
    base_path = (path.parent / base).resolve()
    if base_path in chain or path.resolve() == base_path or len(chain) >= MAX_BASE_DEPTH:
        raise ConfigError(f"config file '{path}' inherits from itself through '{BASE_KEY}' "
                          f"({' -> '.join(str(p) for p in (*chain, path, base_path))}); "
                          "break the loop.")
    merged = read_config_file(base_path, (*chain, path.resolve()))
    for section, values in raw.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **values}
        else:
            merged[section] = values
    return merged


def with_overrides(config: Config, overrides=()) -> Config:
    """config with 'section.key=value' overrides applied, validated. Overrides make a new
    object; config itself is never changed."""
    for text in overrides:
        config = from_dict(parse_override(text), config)
    return config.validate()


def section_overrides(config: Config, overrides, section: str) -> Config:
    """with_overrides for a command that may change one section only (`infoae evaluate --set`)."""
    for text in overrides:
        if not text.strip().startswith(section + "."):
            raise ConfigError(f"--set {text}: only {section}.* keys can be changed here (the "
                              "others are the trained run's); train a new run to change them")
    return with_overrides(config, overrides)


def save_config(config: Config, path: str | Path) -> None:
    """Write the resolved config as TOML (read back by load_config)."""
    lines = []
    for section, values in config.to_dict().items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    atomic.write_text(path, "\n".join(lines))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)
