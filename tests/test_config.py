"""Config loading, overrides and validation."""

import tomllib

import pytest

from infoae.config import BASE_KEY, Config, ConfigError, load_config, parse_override, save_config


def test_defaults_are_valid():
    config = load_config()
    assert config.model.style_dim == 6
    assert config.train.learning_rate == 0.001


DERIVED = ["svhn", "quickstart", "paper", "syndigits", "mnist_perceptual", "cyclevae", "lord",
           "syndigits_cyclevae", "syndigits_lord"]


@pytest.mark.parametrize("name", ["mnist", *DERIVED])
def test_shipped_configs_load(configs_dir, name):
    config = load_config(configs_dir / f"{name}.toml")
    assert config.data.name in ("mnist", "svhn", "mnist_sample", "syndigits")


@pytest.mark.parametrize("name", DERIVED)
def test_shipped_configs_state_only_what_differs_from_mnist(configs_dir, name):
    """Every derived config names mnist.toml, or a config derived from it, as its base, and
    each key it sets differs from its base (a key restating the base is noise a reader must
    check)."""
    raw = tomllib.loads((configs_dir / f"{name}.toml").read_text())
    base = raw.pop(BASE_KEY)
    assert base == "mnist.toml" or base.removesuffix(".toml") in DERIVED
    reference = load_config(configs_dir / base).to_dict()
    for section, values in raw.items():
        for key, value in values.items():
            assert reference[section][key] != value, f"{name}.toml restates {section}.{key}"
    resolved = load_config(configs_dir / f"{name}.toml").to_dict()
    assert all(resolved[s][k] == v for s, values in raw.items() for k, v in values.items())


def test_base_files_chain_and_the_file_wins(tmp_path):
    (tmp_path / "a.toml").write_text("[train]\nepochs = 3\nbatch_size = 64\n[loss]\nkl = 0.5\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.toml").write_text('base = "../a.toml"\n[train]\nepochs = 4\n')
    (tmp_path / "c.toml").write_text('base = "sub/b.toml"\n[loss]\nkl = 0.25\n')
    config = load_config(tmp_path / "c.toml", ["train.batch_size=32"])
    assert (config.train.epochs, config.train.batch_size, config.loss.kl) == (4, 32, 0.25)
    # The resolved config (what a run directory keeps) has no base: it stands alone.
    save_config(config, tmp_path / "resolved.toml")
    assert BASE_KEY not in tomllib.loads((tmp_path / "resolved.toml").read_text())
    assert load_config(tmp_path / "resolved.toml") == config


def test_bad_base_files_are_one_clear_error(tmp_path):
    (tmp_path / "loop1.toml").write_text('base = "loop2.toml"\n')
    (tmp_path / "loop2.toml").write_text('base = "loop1.toml"\n')
    with pytest.raises(ConfigError, match="inherits from itself"):
        load_config(tmp_path / "loop1.toml")
    (tmp_path / "self.toml").write_text('base = "self.toml"\n')
    with pytest.raises(ConfigError, match="inherits from itself"):
        load_config(tmp_path / "self.toml")
    (tmp_path / "orphan.toml").write_text('base = "gone.toml"\n')
    with pytest.raises(ConfigError, match="gone.toml.*the base of.*orphan.toml.*does not exist"):
        load_config(tmp_path / "orphan.toml")
    (tmp_path / "number.toml").write_text("base = 3\n")
    with pytest.raises(ConfigError, match="'base'.*must be the path of a config file"):
        load_config(tmp_path / "number.toml")


def test_shipped_mnist_config_states_every_default(configs_dir):
    """configs/mnist.toml is the default setup: it must agree with the dataclass defaults."""
    assert load_config(configs_dir / "mnist.toml") == load_config()


def test_override_sets_typed_values():
    config = load_config(overrides=["train.epochs=3", "loss.kl=1e-4", "data.name=svhn",
                                    "model.encoder_filters=[8, 16, 32]", "model.variational=false"])
    assert config.train.epochs == 3 and config.loss.kl == 1e-4 and config.data.name == "svhn"
    assert config.model.encoder_filters == [8, 16, 32] and config.model.variational is False


def test_factor_test_size_zero_is_the_whole_test_split():
    settings = load_config().evaluate
    assert settings.factor_test_size == 0 and settings.factor_test_count(10000) == 10000
    settings = load_config(overrides=["evaluate.factor_test_size=5000"]).evaluate
    assert settings.factor_test_count(10000) == 5000 and settings.factor_test_count(300) == 300


def test_section_overrides_change_one_section_only():
    from infoae.config import section_overrides

    config = section_overrides(load_config(), ["evaluate.swap_size=50"], "evaluate")
    assert config.evaluate.swap_size == 50
    with pytest.raises(ConfigError, match="only evaluate.* keys"):
        section_overrides(config, ["evaluate.seed=1", "train.epochs=3"], "evaluate")


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
    ("model.content_filters=[8, 16, 32]", "model.content_filters.*two positive integers"),
    ("model.content_dense=0", "model.content_dense.*>= 1"),
    ("loss.generator_label=maybe", "'true' or 'predicted'"),
    ("train.verbose=true", "train.verbose.*int"),
    ("train.precision=float16", "train.precision.*'float32' or 'mixed_bfloat16'"),
    ("train.jit_compile=1", "train.jit_compile.*bool"),
    ("model.generator_upsample=bilinear", "'transpose' or 'resize'"),
    ("epochs", "section.key=value"),
    ("evaluate.seed=-1", r"evaluate.seed.*\[0, 2147483647\]"),
    ("evaluate.factor_test_size=19", r"factor_test_size.*0 \(the whole test split\) or"),
    ('evaluate.leak_probes=["mlp", "forest"]', r"evaluate.leak_probes.*linear, mlp, boost"),
    ("evaluate.leak_probes=[]", r"evaluate.leak_probes.*non-empty list"),
    ("train.seed=2147483648", r"train.seed.*\[0, 2147483647\]"),
    ("data.validation_size=99999999999", r"data.validation_size.*2147483647"),
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


def test_shipped_configs_load_by_name(configs_dir, capsys):
    from infoae.cli import main

    assert load_config("mnist").to_dict() == load_config(configs_dir / "mnist.toml").to_dict()
    assert load_config("quickstart.toml").data.name == "mnist_sample"
    assert main(["train", "--config", "nope", "--no-evaluate"]) == 2
    err = capsys.readouterr().err
    assert "neither a file nor a config shipped with infoae" in err and "quickstart" in err
