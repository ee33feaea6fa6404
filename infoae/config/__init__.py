"""The typed, validated configuration of a run (see ``configs/mnist.toml`` for every key).

- ``infoae.config.network``: what is trained ([model], [loss], [adversary], [baseline]);
- ``infoae.config.job``: how a run goes ([data], [train], [evaluate], [perceptual], [transfer]);
- ``infoae.config.files``: reading TOML files (with ``base`` inheritance), overrides, writing.
"""

from infoae.config.files import (BASE_KEY, Config, from_dict, load_config, parse_override,
                                 read_config_file, save_config, section_overrides,
                                 with_overrides)
from infoae.config.job import (DATASETS, LOSS_NETWORK_LAYERS, PRECISIONS, SCHEDULES, DataConfig,
                               EvaluateConfig, PerceptualConfig, TrainConfig, TransferConfig)
from infoae.config.network import (MODEL_KINDS, AdversaryConfig, BaselineConfig, LossConfig,
                                   ModelConfig)
from infoae.errors import ConfigError

__all__ = ["BASE_KEY", "Config", "ConfigError", "from_dict", "load_config", "parse_override",
           "read_config_file", "save_config", "section_overrides", "with_overrides", "DATASETS",
           "LOSS_NETWORK_LAYERS", "PRECISIONS", "SCHEDULES", "DataConfig", "EvaluateConfig",
           "PerceptualConfig", "TrainConfig", "TransferConfig", "AdversaryConfig",
           "BaselineConfig", "LossConfig", "MODEL_KINDS", "ModelConfig"]
