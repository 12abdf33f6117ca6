"""Which part of a model a checkpoint leaves out, and how it comes back.

A frozen backbone read from a local ``pretrained`` file never changes in
training, so an adapter-only checkpoint stores only its fingerprint (a
content hash of its weights, :func:`molt.utils.fingerprint.weights_hash`)
and the path it was read from; loading refills it from its ``pretrained``
file and compares the fingerprints.

A direct child of the model is left out (*refillable*) when it

* has an attribute ``pretrained`` naming a weights file (molt's backbones
  have one; ``None`` means random weights, which no file can restore),
* and none of its parameters requires a gradient.

Everything else of ``model.state_dict()`` is stored: trainable parameters,
buffers outside the refillable modules, and any frozen module without a
file (a random-weight backbone, as in the tiny demos).
"""
from collections import OrderedDict
from typing import Dict, List, Tuple

from torch import Tensor, nn

from .fingerprint import weights_hash

__all__ = ['refillable_modules', 'fingerprint', 'split_model_state',
           'refill_frozen_modules', 'FrozenModuleInfo']

# {'fingerprint': sha256 hex, 'pretrained': path the weights came from}
FrozenModuleInfo = Dict[str, str]


def refillable_modules(model: nn.Module) -> 'OrderedDict[str, nn.Module]':
    """The model's direct children that a checkpoint may leave out (see the
    module docstring), by name."""
    return OrderedDict(
        (name, module) for name, module in model.named_children()
        if isinstance(getattr(module, 'pretrained', None), str)
        and not any(p.requires_grad for p in module.parameters()))


def fingerprint(module: nn.Module) -> str:
    """:func:`weights_hash` of ``module``, computed afresh (Swin-V2-L and
    HTS-AT: about 0.9 GB, a second or two per checkpoint on a CPU core)."""
    return weights_hash([module])


def split_model_state(
        model: nn.Module
) -> Tuple['OrderedDict[str, Tensor]', Dict[str, FrozenModuleInfo]]:
    """What an adapter-only checkpoint stores of ``model``.

    Returns:
        ``(state_dict, frozen)``: the model's state dict without the
        refillable modules' keys, and ``{name: {'fingerprint',
        'pretrained'}}`` for each refillable module.
    """
    frozen = refillable_modules(model)
    prefixes = tuple(f'{name}.' for name in frozen)
    state = OrderedDict((key, value)
                        for key, value in model.state_dict().items()
                        if not key.startswith(prefixes))
    info = {
        name: dict(fingerprint=fingerprint(module),
                   pretrained=module.pretrained)
        for name, module in frozen.items()
    }
    return state, info


def refill_frozen_modules(model: nn.Module,
                          frozen: Dict[str, FrozenModuleInfo],
                          source: str) -> List[str]:
    """Gives each module named in ``frozen`` the weights the checkpoint was
    trained with, from its own ``pretrained`` file.

    A module whose weights already have the recorded fingerprint (e.g.
    loaded by ``init_weights()`` before) is left alone; otherwise its
    ``init_weights()`` reads its ``pretrained`` file again.

    Args:
        model: The model.
        frozen: The checkpoint's ``frozen`` entry.
        source: The checkpoint's path, for messages.

    Returns:
        One problem per module that is missing or holds other weights
        (empty when everything fits).
    """
    problems = []
    for name, info in frozen.items():
        module = getattr(model, name, None)
        if not isinstance(module, nn.Module):
            problems.append(
                f'the checkpoint leaves out the frozen module {name} (weights '
                f'from {info.get("pretrained")}), but the model has no {name}')
            continue
        current = fingerprint(module)
        pretrained = getattr(module, 'pretrained', None)
        if current != info['fingerprint'] and pretrained is not None:
            module.init_weights()
            current = fingerprint(module)
        if current != info['fingerprint']:
            origin = (pretrained if pretrained is not None else
                      'a random initialisation (pretrained=None)')
            problems.append(
                f'{name} holds other weights than {source} was trained with: '
                f'fingerprint {current} (from {origin}) vs {info["fingerprint"]} '
                f'recorded in the checkpoint (from {info.get("pretrained")}). '
                f'Point model.{name}.pretrained at the file the checkpoint was '
                'trained with (--cfg-options '
                f'model.{name}.pretrained=PATH)')
    return problems
