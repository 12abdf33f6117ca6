"""Config keys that no constructor takes, caught before anything is built.

A misspelt key inside ``model`` (``--cfg-options
model.adapter.num_latent=8``) would otherwise surface as a
``TypeError: unexpected keyword argument`` at the end of a long mmengine
traceback. :func:`check_constructor_arguments` walks the config's
registered parts and names the part, the class, the bad key and the
nearest key the class takes.
"""
import difflib
import inspect
from typing import Iterator, List, Optional, Tuple

from mmengine.config import Config

from molt.registry import MODELS

__all__ = ['check_constructor_arguments', 'accepted_arguments',
           'UnknownConfigKeyError']

# Sub-configs that mmcv's builders (not a registry's build) consume, with
# keys of their own (e.g. mmcv's norm builder takes ``requires_grad``).
_BUILT_BY_MMCV = ('init_cfg', 'norm_cfg', 'act_cfg', 'conv_cfg')


class UnknownConfigKeyError(KeyError):
    """A config key nothing reads (usually a misspelling)."""

    def __str__(self) -> str:
        return str(self.args[0])


def accepted_arguments(cls: type) -> Optional[List[str]]:
    """The keyword arguments ``cls(...)`` takes, following ``**kwargs``
    up the classes that pass them on to their parent; None when they end
    in a class that takes anything (nothing can be checked)."""
    names: List[str] = []
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        if klass.__module__.startswith(('torch.', 'builtins')):
            return None
        try:
            parameters = inspect.signature(klass.__init__).parameters
        except (TypeError, ValueError):
            return None
        names += [
            name for name, p in parameters.items() if name != 'self'
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
            return names
    return None


def _parts(node, path: str) -> Iterator[Tuple[str, dict]]:
    """Every dict with a ``type`` below ``node`` (depth first)."""
    if isinstance(node, dict):
        if 'type' in node:
            yield path, node
        for key, value in node.items():
            if key not in _BUILT_BY_MMCV:
                yield from _parts(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _parts(value, f'{path}[{index}]')


def _check_part(registry, path: str, part: dict, source: str) -> None:
    kind = part['type']
    cls = kind if isinstance(kind, type) else registry.get(kind)
    if not isinstance(cls, type):
        return  # a function, or a name this registry does not know
    accepted = accepted_arguments(cls)
    if accepted is None:
        return
    for key in part:
        if key == 'type' or key in accepted:
            continue
        nearest = difflib.get_close_matches(key, accepted, 1, 0.0)
        hint = f' Did you mean {nearest[0]!r}?' if nearest else ''
        raise UnknownConfigKeyError(
            f'{source}: {path}.{key} is not an argument of {cls.__name__} '
            f'({cls.__module__}), the class {path}.type={kind!r} builds.'
            f'{hint} Its arguments: {", ".join(accepted)}.')


def check_constructor_arguments(cfg: Config, source: str = 'the config') \
        -> None:
    """Refuses keys of ``model`` (and of its registered sub-parts) that
    their classes do not take.

    Args:
        cfg: The config, command-line options merged.
        source: The config's path, for messages.

    Raises:
        UnknownConfigKeyError: Naming the key's path, the class and the
            nearest argument it takes.
    """
    model = cfg.get('model')
    if not isinstance(model, dict):
        return
    for path, part in _parts(model, 'model'):
        _check_part(MODELS, path, part, source)
