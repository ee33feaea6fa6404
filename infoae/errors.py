"""Errors that mean bad input or a stopped run; the CLI prints them as one line (exit 2)."""


class InfoaeError(ValueError):
    """Base class: the message says what is wrong and what to do."""


class ConfigError(InfoaeError):
    """A config file or override is invalid."""


class DataError(InfoaeError):
    """Data could not be loaded (missing, truncated or corrupt files, no network)."""


class RunDirError(InfoaeError):
    """A run directory is missing, is not a run, or exists where a new run would go."""


class ImageError(InfoaeError):
    """Images given to the API have the wrong shape, dtype or range."""


class TrainingDiverged(InfoaeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (library errors can span many lines)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
