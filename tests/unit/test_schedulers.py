"""The learning-rate schedules of the papers' code."""

from __future__ import annotations

import pytest
import torch

from aelab.errors import ConfigError
from aelab.schedulers import staged


def test_staged_is_the_wae_codes_decay():
    """Tolstikhin et al.'s code: lr halved at epoch 30, divided by 5 (0.1 in all) at 50."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=1e-3)
    scheduler = staged(optimizer, [30, 50], [0.5, 0.1])
    lrs = []
    for _ in range(60):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == lrs[29] == pytest.approx(1e-3)
    assert lrs[30] == lrs[49] == pytest.approx(5e-4)
    assert lrs[50] == lrs[59] == pytest.approx(1e-4)


@pytest.mark.parametrize(
    ("milestones", "factors", "needle"),
    [
        ([30], [0.5, 0.1], "one factor per milestone"),
        ([50, 30], [0.5, 0.1], "increasing"),
        ([3], [0], "> 0"),
    ],
)
def test_staged_refuses_inconsistent_stages(milestones, factors, needle):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ConfigError, match=needle):
        staged(optimizer, milestones, factors)


def _lrs(scheduler_config: str, epochs: int, **overrides) -> list[float]:
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    config = OmegaConf.merge(OmegaConf.load(f"conf/scheduler/{scheduler_config}.yaml"), overrides)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=1e-3)
    scheduler = instantiate(config)(optimizer)
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_burda_schedule_is_eight_stages_of_3_to_the_i_epochs():
    """Burda et al. 2015, Sec. 5: stage i runs 3^i epochs at 1e-3 * 10^(-i/7), 3,280 in all."""
    lrs = _lrs("burda", 3280)
    start = 0
    for i in range(8):
        stage = lrs[start : start + 3**i]
        assert stage[0] == stage[-1] == pytest.approx(1e-3 * 10 ** (-i / 7), rel=1e-5), i
        start += 3**i
    assert start == len(lrs)


def test_compress_fits_the_stages_into_fewer_epochs():
    lrs = _lrs("burda", 40, compress=82)  # the milestones 1 ... 1093 become 0, 0, 0, 0, 1, 4, 13
    assert lrs[0] == pytest.approx(1e-3 * 10 ** (-4 / 7), rel=1e-5)  # stages 0-3 round away
    assert lrs[1] == lrs[3] == pytest.approx(1e-3 * 10 ** (-5 / 7), rel=1e-5)
    assert lrs[13] == lrs[39] == pytest.approx(1e-4, rel=1e-5)  # the last stage: 27 of 40 epochs
    assert _lrs("staged", 60, compress=10)[3] == pytest.approx(5e-4)  # the WAE decay at 3 and 5
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ConfigError, match="scheduler.compress=0.5"):
        staged(optimizer, [30], [0.5], compress=0.5)
