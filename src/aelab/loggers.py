"""The W&B logger: it resumes its run after a kill and never waits on a dead network
(the CSV and TensorBoard loggers that continue a resumed run are in :mod:`aelab.history`)."""

from __future__ import annotations

import logging
import netrc
import os
import socket
from collections.abc import Sequence
from urllib.parse import urlparse

from aelab.errors import AelabError

log = logging.getLogger(__name__)

INIT_TIMEOUT_S = 30  # W&B's default waits 90 s for a server that may never answer
WANDB_ID_FILE = "wandb_run_id"  # in the run directory: a resumed run continues the same W&B run


def _has_wandb_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators(_wandb_host()) is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def _wandb_host() -> str:
    return (
        urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
        or "api.wandb.ai"
    )


def _reachable(host: str, port: int | None = None, timeout_s: float = 2.0) -> bool:
    """Whether a TCP connection to the W&B server opens within ``timeout_s``, name lookup
    included (a resolver without network can take far longer than a connect)."""
    import threading

    url = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai"))
    port = port or url.port or (80 if url.scheme == "http" else 443)
    result: list[bool] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout_s)
    return bool(result and result[0])


def multirun_names() -> tuple[str | None, str | None]:
    """In a multirun job, ``(group, name)`` for its W&B run: the group is the sweep (its
    directory's name) and the job's overrides without ``seed``, so the seeds of one setting
    share a group and W&B's grouping averages them; the name is all of the job's overrides."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None, None
    hydra_cfg = HydraConfig.get()
    overrides = list(hydra_cfg.overrides.task)
    setting = [o for o in overrides if o.split("=")[0].lstrip("+~") != "seed"]
    sweep = os.path.basename(os.path.normpath(hydra_cfg.sweep.dir))
    return f"{sweep} {' '.join(setting)}".strip()[:128], " ".join(overrides)[:128] or None


def wandb_logger(
    save_dir: str,
    project: str = "aelab",
    entity: str | None = None,
    group: str | None = None,
    tags: Sequence[str] = (),
    name: str | None = None,
    mode: str = "auto",
    **kwargs,
):
    """A ``WandbLogger``; ``mode="auto"`` goes online only with a key and a reachable server.

    ``WANDB_MODE`` in the environment wins over ``mode``. Offline runs are kept under
    ``save_dir/wandb`` and can be uploaded later with ``wandb sync``.
    """
    from pytorch_lightning.loggers import WandbLogger

    sweep_group, job_name = multirun_names()
    group, name = group or sweep_group, name or job_name
    mode = os.environ.get("WANDB_MODE", mode)
    auto = mode == "auto"
    if auto:
        mode = "online" if _has_wandb_key() and _reachable(_wandb_host()) else "offline"
        if mode == "offline":
            log.warning(
                "W&B: no API key or no route to %s, logging offline; upload later with `wandb sync %s/wandb/offline-run-*`.",
                _wandb_host(),
                save_dir,
            )
    if mode == "online" and not _reachable(_wandb_host()):
        raise AelabError(
            f"logger.wandb.mode=online but {_wandb_host()} cannot be reached: use logger.wandb.mode=auto (offline here, `wandb sync` later)."
        )
    import wandb

    def start(mode: str, run_id: str) -> WandbLogger:
        logger = WandbLogger(
            id=run_id,
            resume="allow",  # a resumed aelab run continues its W&B run
            save_dir=save_dir,
            project=project,
            entity=entity,
            group=group,
            tags=list(tags),
            name=name,
            mode=mode,
            settings=wandb.Settings(init_timeout=INIT_TIMEOUT_S),
            **kwargs,
        )
        logger._wandb_init.pop("anonymous", None)  # W&B warns that the setting is gone
        logger.experiment  # noqa: B018 - start the run now, so that a refusal is seen here
        return logger

    try:
        return start(mode, _run_id(save_dir))
    except Exception as e:  # a bad key, a server that does not answer in time
        if mode != "online":
            raise
        reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        if not auto:
            raise AelabError(
                f"W&B refused to start an online run ({reason}): check WANDB_API_KEY (`wandb login --relogin`), or use logger.wandb.mode=offline."
            ) from e
        finish_wandb()
        log.warning("W&B refused the online run (%s), logging offline instead.", reason)
        # the refused online start keeps its id busy in W&B's service: a fresh one for offline
        return start("offline", _run_id(save_dir, fresh=True))


def _run_id(save_dir: str, fresh: bool = False) -> str:
    """The run directory's W&B run id, made and kept there by its first start, so that
    ``resume=true`` logs into the same W&B run (DDP's other processes read it back)."""
    import secrets
    import string
    from pathlib import Path

    path = Path(save_dir) / WANDB_ID_FILE
    if path.is_file() and not fresh:
        return path.read_text().strip()
    run_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    from aelab.summary import write_text_atomic

    write_text_atomic(path, run_id + "\n")
    return run_id


def mlflow_logger(
    tracking_uri: str,
    experiment_name: str = "aelab",
    run_name: str | None = None,
    tags: Sequence[str] = (),
    **kwargs,
):
    """Lightning's ``MLFlowLogger``; a multirun job's run is named by its overrides, as in
    W&B. MLflow 3 keeps its file store in maintenance mode and refuses it unless allowed:
    aelab allows it (a local directory, no database server, safe for parallel jobs)."""
    from pytorch_lightning.loggers import MLFlowLogger

    if tracking_uri.startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    _, job_name = multirun_names()
    return MLFlowLogger(
        experiment_name=experiment_name,
        run_name=run_name or job_name,
        tracking_uri=tracking_uri,
        tags={t: "" for t in tags} or None,
        **kwargs,
    )


def finish_wandb() -> None:
    """End the active W&B run, if any: in a multirun every job must be its own run."""
    import sys

    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.finish()
