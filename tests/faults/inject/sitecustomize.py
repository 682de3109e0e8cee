"""Fault injection for tests/faults: on PYTHONPATH, this runs at the start of the real
``python -m aelab.train`` and kills it with SIGKILL where ``AELAB_FAULT`` says:

- ``step:K``  right after the K-th optimizer step;
- ``save:N``  in the middle of writing the N-th checkpoint file (half of its bytes on disk).

Nothing in aelab knows about it; without ``AELAB_FAULT`` it does nothing.
"""

import os
import signal

_FAULT = os.environ.get("AELAB_FAULT", "")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if _FAULT.startswith("step:"):
    import torch

    _at, _steps = int(_FAULT.split(":")[1]), [0]

    def _after_step(optimizer, args, kwargs) -> None:
        _steps[0] += 1
        if _steps[0] == _at:
            _die()

    from torch.optim.optimizer import register_optimizer_step_post_hook

    register_optimizer_step_post_hook(_after_step)

elif _FAULT.startswith("save:"):
    import io

    import torch

    _at, _saves, _save = int(_FAULT.split(":")[1]), [0], torch.save

    def _save_then_die(obj, f, *args, **kwargs):
        is_checkpoint = isinstance(obj, dict) and "state_dict" in obj and hasattr(f, "write")
        if is_checkpoint:
            _saves[0] += 1
        if not is_checkpoint or _saves[0] < _at:
            return _save(obj, f, *args, **kwargs)
        buffer = io.BytesIO()
        _save(obj, buffer, *args, **kwargs)
        f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        f.flush()
        os.fsync(f.fileno())
        _die()

    torch.save = _save_then_die
