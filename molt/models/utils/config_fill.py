"""Filling the sizes a part receives from the part before it."""
from typing import Any, Dict

__all__ = ['fill_config']


def fill_config(cfg: dict, values: Dict[str, Any], owner: str) -> dict:
    """Copies ``cfg`` with ``values`` filled in.

    A value the user set that disagrees is an error naming the field: a
    width mismatch is never silently projected away.

    Args:
        cfg: The part's config.
        values: Fields the model derives (e.g. ``visual_dims``).
        owner: Config path of the part, for messages (``'model.head'``).
    """
    cfg = dict(cfg)
    for key, value in values.items():
        if key in cfg and cfg[key] is not None and cfg[key] != value:
            raise ValueError(
                f'{owner}.{key}={cfg[key]} does not match the {value} it '
                'receives from the part before it; remove the field (the '
                'model fills it in) or change that part.')
        cfg[key] = value
    return cfg
