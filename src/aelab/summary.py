"""What a finished run reports: ``summary.json`` (written atomically) and the final table."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import tempfile
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

PACKAGES = (
    "aelab",
    "torch",
    "pytorch-lightning",
    "hydra-core",
    "omegaconf",
    "torchmetrics",
    "wandb",
)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


@contextlib.contextmanager
def open_atomic(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file opened under a temporary name beside ``path``, synced and renamed into place on
    leaving the block (removed on an error): a reader, or a kill, sees the old file or the
    new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through :func:`open_atomic`."""
    with open_atomic(path) as f:
        f.write(text)
    return Path(path)


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """:func:`write_text_atomic` of ``obj`` as indented JSON."""
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def print_metrics_table(metrics: dict[str, float], title: str) -> None:
    """One screen: the final validation and test metrics, side by side."""
    from rich.console import Console
    from rich.table import Table

    names = sorted({k.split("/", 1)[1] for k in metrics})
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("val", justify="right")
    table.add_column("test", justify="right")
    for name in names:
        cells = [metrics.get(f"{stage}/{name}") for stage in ("val", "test")]
        table.add_row(name, *("" if v is None else f"{v:.4g}" for v in cells))
    Console().print(table)
