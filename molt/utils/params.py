"""Parameter counts per component, as in the papers' tables."""
from collections import OrderedDict
from typing import Dict, Tuple

from torch import nn

__all__ = ['count_parameters', 'strip_pretrained']

# Top-level children of AVModel, grouped into the rows of the report.
COMPONENTS = (
    ('visual backbone', ('visual_backbone', )),
    ('audio backbone', ('audio_backbone', 'audio_frontend')),
    ('adapter', ('adapter', )),
    ('fusion', ('visual_fusion', 'audio_fusion')),
    ('head', ('head', )),
)


def count_parameters(model: nn.Module) -> 'OrderedDict[str, Tuple[int, int]]':
    """``{component: (trainable, total)}`` plus a ``'total'`` row.

    Components are the model's top-level children grouped as in
    :data:`COMPONENTS`; any other child with parameters gets its own row.
    A module shared by two components (one backbone for both modalities)
    is counted once, under the first.
    """
    children = dict(model.named_children())
    rows = OrderedDict()
    seen = set()
    grouped = set()

    def count(names) -> Tuple[int, int]:
        trainable = total = 0
        for name in names:
            module = children.get(name)
            if module is None:
                continue
            for param in module.parameters():
                if id(param) in seen:
                    continue
                seen.add(id(param))
                total += param.numel()
                trainable += param.numel() if param.requires_grad else 0
        return trainable, total

    for label, names in COMPONENTS:
        grouped.update(names)
        rows[label] = count(names)
    for name in children:
        if name not in grouped:
            extra = count([name])
            if extra[1]:
                rows[name] = extra
    rows['total'] = (sum(t for t, _ in rows.values()),
                     sum(n for _, n in rows.values()))
    return rows


def strip_pretrained(cfg: Dict) -> Dict:
    """A copy of a model config with every ``pretrained`` set to None, so
    it builds without checkpoint files."""
    if isinstance(cfg, dict):
        return {
            key: None if key == 'pretrained' else strip_pretrained(value)
            for key, value in cfg.items()
        }
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(strip_pretrained(v) for v in cfg)
    return cfg
