"""Pairing audio and visual blocks when the backbones differ in depth.

Two rules, one per kind of scheme:

* :func:`pair_by_relative_depth` (parallel readers, MoLT's CDA and
  router): selected layer ``j`` of ``n`` on one side is paired with the
  selected layer at the same relative depth on the other side, position
  ``round(j * (n' - 1) / (n - 1))`` of ``n'``. Equal selections pair one to
  one (the default: the last 2 blocks of each backbone).
* :func:`pair_blocks_by_stage` (sequential LAVisH): both backbones must
  have the same number of stages; within a stage with ``n_d`` blocks on the
  deeper side and ``n_s`` on the shallower side, shallow block ``k`` is
  paired with deep block ``floor((k + 1) * n_d / n_s) - 1``, the last of its
  group. For Swin-V2-L (2, 2, 18, 2) and HTS-AT (2, 2, 6, 2) this pairs
  HTS-AT stage-3 block ``k`` with Swin stage-3 block ``3k + 2`` and the
  other stages one to one.
"""
from typing import Dict, List, Sequence

from .layout import BackboneLayout

__all__ = ['pair_by_relative_depth', 'pair_blocks_by_stage']


def pair_by_relative_depth(source: Sequence[int],
                           target: Sequence[int]) -> List[int]:
    """For each position in ``source``, the paired position in ``target``.

    Args:
        source: Selected layers of one modality (sorted).
        target: Selected layers of the other modality (sorted).

    Returns:
        Positions (indices into ``target``), one per entry of ``source``.
    """
    if len(source) == 1:
        return [len(target) - 1]
    scale = (len(target) - 1) / (len(source) - 1)
    return [int(round(j * scale)) for j in range(len(source))]


def pair_blocks_by_stage(deep: BackboneLayout,
                         shallow: BackboneLayout) -> Dict[int, int]:
    """Maps each block of ``shallow`` to its partner block of ``deep``.

    Args:
        deep: Layout of the backbone with at least as many blocks per stage.
        shallow: Layout of the other backbone.

    Returns:
        ``{shallow_block: deep_block}`` over flat block indices.

    Raises:
        ValueError: The stage counts differ, or ``shallow`` is deeper in
            some stage.
    """
    if deep.num_stages != shallow.num_stages:
        raise ValueError(
            f'LAVisH pairs blocks stage by stage, but the backbones have '
            f'{deep.num_stages} and {shallow.num_stages} stages.')
    pairs = {}
    for stage in range(deep.num_stages):
        deep_blocks = deep.blocks_of_stage(stage)
        shallow_blocks = shallow.blocks_of_stage(stage)
        n_d, n_s = len(deep_blocks), len(shallow_blocks)
        if n_s > n_d:
            raise ValueError(
                f'stage {stage}: the shallow backbone has {n_s} blocks, the '
                f'deep one {n_d}; swap them.')
        for k, block in enumerate(shallow_blocks):
            pairs[block] = deep_blocks[(k + 1) * n_d // n_s - 1]
    return pairs
