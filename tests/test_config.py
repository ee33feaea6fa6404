"""Config loading, overrides and validation."""

import pytest

from infoae.config import Config, ConfigError, load_config, parse_override, save_config


def test_defaults_are_valid():
    config = load_config()
    assert config.model.style_dim == 16
    assert config.train.learning_rate == 0.001


@pytest.mark.parametrize("name", ["mnist", "svhn", "quickstart", "paper", "syndigits"])
def test_shipped_configs_load(configs_dir, name):
    config = load_config(configs_dir / f"{name}.toml")
    assert config.data.name in ("mnist", "svhn", "mnist_sample", "syndigits")


def test_shipped_mnist_config_states_every_default(configs_dir):
    """configs/mnist.toml is the default setup: it must agree with the dataclass defaults."""
    assert load_config(configs_dir / "mnist.toml") == load_config()


def test_override_sets_typed_values():
    config = load_config(overrides=["train.epochs=3", "loss.kl=1e-4", "data.name=svhn",
                                    "model.encoder_filters=[8, 16, 32]", "model.variational=false"])
    assert config.train.epochs == 3 and config.loss.kl == 1e-4 and config.data.name == "svhn"
    assert config.model.encoder_filters == [8, 16, 32] and config.model.variational is False


def test_int_is_accepted_for_float_but_not_the_reverse():
    assert load_config(overrides=["loss.content=1"]).loss.content == 1.0
    with pytest.raises(ConfigError, match="train.epochs.*int"):
        load_config(overrides=["train.epochs=2.5"])


@pytest.mark.parametrize("override, message", [
    ("train.epoch=3", "unknown config key 'train.epoch'.*allowed keys"),
    ("trian.epochs=3", "unknown config section 'trian'"),
    ("train.epochs=0", "train.epochs.*>= 1"),
    ("data.name=cifar", "data.name.*mnist, svhn, mnist_sample"),
    ("model.encoder_filters=[1, 2]", "three positive integers"),
    ("loss.generator_label=maybe", "'true' or 'predicted'"),
    ("train.verbose=true", "train.verbose.*int"),
    ("train.precision=float16", "train.precision.*'float32' or 'mixed_bfloat16'"),
    ("train.jit_compile=1", "train.jit_compile.*bool"),
    ("model.generator_upsample=bilinear", "'transpose' or 'resize'"),
    ("epochs", "section.key=value"),
])
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_save_and_reload_round_trip(tmp_path):
    config = load_config(overrides=["train.epochs=7", "data.dir=/some/where \"quoted\""])
    save_config(config, tmp_path / "config.toml")
    assert load_config(tmp_path / "config.toml") == config
    assert isinstance(Config().to_dict()["loss"]["info"], float)


def test_parse_override_bare_word_is_string():
    assert parse_override("data.name=mnist") == {"data": {"name": "mnist"}}
