"""User-facing errors: one sentence that names the problem and the fix.

The entry points print these without a traceback (unless ``HYDRA_FULL_ERROR=1``) and exit
non-zero; anything else is a bug and keeps its traceback.
"""

import errno


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


def user_cause(error: BaseException) -> AelabError | None:
    """The :class:`AelabError` behind ``error``, following ``__cause__`` (Hydra wraps what a
    constructor raises inside ``instantiate()``); ``None`` if there is none."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, AelabError):
        cause = cause.__cause__
    return cause


# A full disk, a quota, a file-size limit, a read-only or forbidden directory: the user's
# machine, not the code, so one sentence instead of a traceback.
DISK_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file size limit was reached",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission was denied",
    errno.EPERM: "permission was denied",
}


def disk_error(error: BaseException, where: str | None = None) -> AelabError | None:
    """The :class:`AelabError` for an ``OSError`` of a full or unwritable disk anywhere in
    ``error``'s chain of causes, else ``None``."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in DISK_ERRNOS:
            target = seen.filename or where or "the output directory"
            return AelabError(
                f"could not write {target}: {DISK_ERRNOS[seen.errno]}; free space or point "
                "AELAB_LOG_DIR (paths.log_dir) at a writable disk, then rerun (this run wrote no summary.json)."
            )
        seen = seen.__cause__ or seen.__context__
    return None
