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
