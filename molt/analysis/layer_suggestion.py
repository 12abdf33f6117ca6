"""Which layers to adapt, suggested from a layer-similarity matrix.

This is a heuristic, not a result of the paper: it encodes the paper's
argument (late layers carry what the task needs, and layer-wise tokens
help when they are not redundant, which is also what the orthogonality
loss pushes for) as a greedy rule:

1. candidates are the late blocks (by default the deeper half of the
   backbone; any layer selection can be given instead);
2. the deepest candidate is taken first: it is the backbone's most
   processed output;
3. then, until ``k`` layers are chosen, the candidate whose highest
   similarity to the layers chosen so far is the lowest (the least
   redundant one), the deeper one on a tie.

It does not know the task: check a suggestion against the paper's default
(the last two blocks) on validation data before trusting it.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

from torch import Tensor

__all__ = ['LayerPick', 'suggest_layers', 'default_candidates']


@dataclass(frozen=True)
class LayerPick:
    """One suggested layer and why it was picked.

    Attributes:
        layer: Block index.
        redundancy: Highest similarity to the layers picked before it
            (None for the first pick).
        closest: The earlier pick it is most similar to (None for the
            first pick).
    """
    layer: int
    redundancy: Optional[float]
    closest: Optional[int]

    def reason(self, measure: str) -> str:
        """A one-line explanation, e.g. for the command line."""
        if self.redundancy is None:
            return 'the deepest candidate, taken first'
        return (f'least redundant candidate left: {measure} '
                f'{self.redundancy:.3f} to its closest pick, block '
                f'{self.closest}')


def default_candidates(num_layers: int) -> List[int]:
    """The deeper half of the blocks (the middle one included when odd)."""
    return list(range(num_layers // 2, num_layers))


def suggest_layers(similarity: Tensor, k: int,
                   candidates: Sequence[int]) -> List[LayerPick]:
    """Greedily picks ``k`` late, mutually least similar layers.

    Args:
        similarity: ``(L, L)`` layer similarity (higher = more alike).
        k: Number of layers to pick.
        candidates: Block indices allowed (e.g. :func:`default_candidates`).

    Returns:
        The picks in the order they were made.

    Raises:
        ValueError: ``k`` is not in ``[1, len(candidates)]``, or a
            candidate's similarity is not a number.
    """
    pool = sorted(set(int(c) for c in candidates))
    if not 1 <= k <= len(pool):
        raise ValueError(f'--suggest {k}: choose between 1 and the '
                         f'{len(pool)} candidate layers {pool}.')
    if similarity[pool][:, pool].isnan().any():
        raise ValueError('The similarity matrix has NaN entries among the '
                         'candidates; suggest from a measure defined for '
                         'every pair (CKA), not cosine.')
    picks = [LayerPick(pool[-1], None, None)]
    while len(picks) < k:
        chosen = [p.layer for p in picks]
        best = None
        for layer in reversed(pool):  # deeper first wins ties
            if layer in chosen:
                continue
            row = similarity[layer, chosen]
            redundancy = float(row.max())
            if best is None or redundancy < best.redundancy:
                best = LayerPick(layer, redundancy,
                                 chosen[int(row.argmax())])
        picks.append(best)
    return picks
