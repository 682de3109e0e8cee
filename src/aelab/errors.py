"""User-facing errors: one sentence that names the problem and the fix.

The entry points print these without a traceback (unless ``HYDRA_FULL_ERROR=1``) and exit
non-zero; anything else is a bug and keeps its traceback.
"""


class AelabError(Exception):
    """An error caused by the user's input (config, data, files), not by the code."""


class ConfigError(AelabError):
    """A config value or combination that cannot work."""


class DataError(AelabError):
    """A data set that is missing, unreadable or malformed."""


class DivergedError(AelabError):
    """Training produced a loss or weights that are NaN or infinite."""

    def __init__(self, step: int, what: str) -> None:
        self.step, self.what = step, what
        super().__init__(f"training diverged at step {step}: {what} is not finite")
