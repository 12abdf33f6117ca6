"""Which transformer blocks a scheme reads: indices, ``'all'`` and stages.

A layer spec is resolved against a backbone's block count ``L``:

* an int or a list of ints, negatives counted from the end (``-1`` is the
  last block);
* ``'all'``: every block;
* the paper's stages: ``'early'`` = the first 4 blocks, ``'late'`` = the
  last 2, ``'mid'`` = the blocks in between;
* unions of stages joined with ``'+'`` (``'early+late'``), so Table 4's
  seven rows are seven strings.

The result is a sorted list of unique non-negative indices.
"""
from typing import List, Sequence, Union

LayerSelection = Union[int, str, Sequence[Union[int, str]]]

NUM_EARLY_LAYERS = 4
NUM_LATE_LAYERS = 2
STAGE_NAMES = ('early', 'mid', 'late', 'all')

__all__ = ['LayerSelection', 'resolve_layers', 'normalize_index', 'STAGE_NAMES']


def normalize_index(index: int, num_layers: int, field: str = 'layers') -> int:
    """Turns a possibly negative block index into ``0 <= i < num_layers``.

    Raises:
        IndexError: ``index`` falls outside ``[-num_layers, num_layers)``;
            the message names ``field``.
    """
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f'{field}: block indices must be ints, got {index!r}')
    if not -num_layers <= index < num_layers:
        raise IndexError(
            f'{field}: block index {index} is out of range for a backbone '
            f'with {num_layers} blocks (valid: {-num_layers}..'
            f'{num_layers - 1}).')
    return index % num_layers


def _stage(name: str, num_layers: int, field: str) -> List[int]:
    if name == 'mid' and num_layers <= NUM_EARLY_LAYERS + NUM_LATE_LAYERS:
        raise ValueError(
            f"{field}: 'mid' is empty for a backbone with {num_layers} "
            f'blocks (needs more than {NUM_EARLY_LAYERS} early + '
            f'{NUM_LATE_LAYERS} late blocks).')
    if name == 'all':
        return list(range(num_layers))
    if name == 'early':
        return list(range(min(NUM_EARLY_LAYERS, num_layers)))
    if name == 'late':
        return list(range(max(num_layers - NUM_LATE_LAYERS, 0), num_layers))
    if name == 'mid':
        return list(range(NUM_EARLY_LAYERS, num_layers - NUM_LATE_LAYERS))
    raise ValueError(
        f'{field}: unknown layer name {name!r}; use one of {STAGE_NAMES}, a '
        "union such as 'early+late', or block indices.")


def resolve_layers(spec: LayerSelection,
                   num_layers: int,
                   field: str = 'layers') -> List[int]:
    """Resolves a layer spec to sorted, unique block indices.

    Args:
        spec: An int, a stage name or union (``'mid+late'``), ``'all'``, or
            a list mixing ints and names.
        num_layers: Number of blocks of the backbone.
        field: Config field name used in error messages.

    Returns:
        Sorted unique indices in ``[0, num_layers)``.

    Raises:
        ValueError: Unknown name or an empty selection.
        IndexError: An index out of range.
    """
    items = [spec] if isinstance(spec, (int, str)) else list(spec)
    if not items:
        raise ValueError(f'{field}: the layer selection is empty.')
    selected = set()
    for item in items:
        if isinstance(item, str):
            for name in item.split('+'):
                selected.update(_stage(name.strip(), num_layers, field))
        else:
            selected.add(normalize_index(item, num_layers, field))
    return sorted(selected)
