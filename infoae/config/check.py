"""The one check every config section uses."""

from infoae.errors import ConfigError


def check(name: str, ok: bool, allowed: str) -> None:
    """Raise ConfigError naming the key and what it accepts unless ok."""
    if not ok:
        raise ConfigError(f"config key '{name}' must be {allowed}")
