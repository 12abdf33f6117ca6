"""bf16 autocast for training on CPU or GPU."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from molt.registry import OPTIM_WRAPPERS

__all__ = ['BF16OptimWrapper', 'apply_amp']


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """Runs the forward pass under ``torch.autocast(dtype=torch.bfloat16)``.

    bf16 keeps fp32's exponent range, so no loss scaling is needed, and
    autocast supports it on CPU as well as CUDA (mmengine's
    ``AmpOptimWrapper`` requires an accelerator). ``tools/train.py --amp``
    selects it.
    """

    @contextmanager
    def optim_context(self, model: nn.Module):
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(
                device_type=device, dtype=torch.bfloat16):
            yield


def apply_amp(cfg) -> None:
    """What ``--amp`` does to a config: the optimiser wrapper becomes
    :class:`BF16OptimWrapper` (mmengine's loss scaling is dropped; bf16
    needs none)."""
    cfg.optim_wrapper.type = 'BF16OptimWrapper'
    cfg.optim_wrapper.pop('loss_scale', None)
