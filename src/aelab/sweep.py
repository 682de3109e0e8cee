"""Multiruns that survive their failures: each job's outcome is recorded, and the sweep ends
with ``sweep_summary.json`` beside the jobs, marking which failed and why.

A job that fails (a bad value, data that is missing, a run that diverges) is recorded as
failed and the sweep goes on to the next job; Hydra then ends the whole multirun with a
non-zero exit after the last job. The summary is rewritten at the end of every job (under a
file lock: a parallel launcher's jobs end in their own processes), so it is complete even
when Hydra stops on the failures. Registered as a Hydra callback in ``conf/hydra/default.yaml``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from aelab.errors import AelabError, user_cause

JOB_RECORD = "job.json"


def describe(error: BaseException) -> str:
    """The one sentence a failure is reported by: an :class:`AelabError`'s own (also when
    Hydra wraps it), else the exception's type and first line."""
    cause = user_cause(error)
    if cause is not None:
        return str(cause)
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}"[:500]


def outcome_line(sweep_dir: Path) -> str:
    """The multirun's last line: how many jobs completed and failed, where their records are,
    and the comparison to run next."""
    path = sweep_dir / "sweep_summary.json"
    summary = json.loads(path.read_text()) if path.is_file() else {"jobs": 0, "failed": 0}
    jobs, failed = summary["jobs"], summary["failed"]
    line = f"multirun: {jobs - failed} of {jobs} jobs completed"
    if failed:
        first = next(r for r in summary["runs"] if r["status"] == "failed")
        line += f", {failed} failed (the first, job {first['job']}: {first['error'].rstrip('.')})"
    return f"{line}; every job's outcome is in {path}; compare them with: aelab-compare {sweep_dir}"


_failure: str | None = None  # this process's job failed with this sentence (see record_failure)


def record_failure(error: str) -> None:
    """Mark the running multirun job failed. The job then returns to Hydra normally instead
    of raising, so that the multirun ends with :func:`outcome_line` (exit 1), not with Hydra's
    traceback of the first failure."""
    global _failure
    _failure = error


class SweepSummary(Callback):
    """Writes ``job.json`` in each multirun job's directory, then ``sweep_summary.json``; a
    multirun without failures ends with :func:`outcome_line`."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        import sys

        from aelab.study import check_budget

        try:
            check_budget(config)
        except AelabError as e:
            print(f"aelab: error: {e}", file=sys.stderr)
            sys.exit(1)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        import sys

        line = outcome_line(Path(config.hydra.sweep.dir))
        print(line)
        if " failed (" in line:
            sys.exit(1)  # a sweeper that tolerates failures (Optuna) still ends non-zero

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hydra_cfg = HydraConfig.get()
        if hydra_cfg.mode != RunMode.MULTIRUN:
            return
        from aelab.summary import write_json_atomic

        global _failure
        error, _failure = _failure, None
        if job_return.status == JobStatus.FAILED:  # an exception that is not the user's
            error = describe(job_return._return_value)
        record = {
            "job": hydra_cfg.job.num,
            "overrides": list(job_return.overrides or []),
            "status": "failed" if error else "completed",
            "error": error,
            "run_dir": hydra_cfg.runtime.output_dir,
        }
        write_json_atomic(Path(hydra_cfg.runtime.output_dir) / JOB_RECORD, record)
        write_sweep_summary(Path(hydra_cfg.sweep.dir))


def write_sweep_summary(sweep_dir: Path) -> dict[str, Any]:
    """Gather the jobs' records (and the completed ones' metrics) into ``sweep_summary.json``."""
    import fcntl

    from aelab.summary import write_json_atomic

    with open(sweep_dir / ".sweep_summary.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        jobs = []
        for path in sweep_dir.glob(f"*/{JOB_RECORD}"):
            record = json.loads(path.read_text())
            summary = Path(record["run_dir"]) / "summary.json"
            if record["status"] == "completed" and summary.is_file():
                record["metrics"] = json.loads(summary.read_text()).get("metrics", {})
            jobs.append(record)
        jobs.sort(key=lambda r: r["job"])
        failed = sum(j["status"] == "failed" for j in jobs)
        result = {
            "jobs": len(jobs),
            "completed": len(jobs) - failed,
            "failed": failed,
            "runs": jobs,
        }
        write_json_atomic(sweep_dir / "sweep_summary.json", result)
    return result
