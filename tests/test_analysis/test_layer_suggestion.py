"""The --suggest heuristic: deepest first, then least redundant."""
import pytest
import torch

from molt.analysis.layer_suggestion import default_candidates, suggest_layers


def _similarity():
    # Six blocks: 0-2 alike, 3-4 alike, 5 alone but close to 4.
    sim = torch.tensor([
        [1.0, 0.9, 0.9, 0.2, 0.2, 0.1],
        [0.9, 1.0, 0.9, 0.2, 0.2, 0.1],
        [0.9, 0.9, 1.0, 0.3, 0.3, 0.1],
        [0.2, 0.2, 0.3, 1.0, 0.95, 0.6],
        [0.2, 0.2, 0.3, 0.95, 1.0, 0.7],
        [0.1, 0.1, 0.1, 0.6, 0.7, 1.0],
    ], dtype=torch.float64)
    return sim


def test_default_candidates_are_the_deeper_half():
    assert default_candidates(24) == list(range(12, 24))
    assert default_candidates(5) == [2, 3, 4]


def test_greedy_least_redundant_picks():
    picks = suggest_layers(_similarity(), 3, range(6))
    # Blocks 0-2 tie at 0.1 to block 5: the deepest of them wins.
    assert [p.layer for p in picks] == [5, 2, 3]
    assert picks[0].redundancy is None and 'deepest' in picks[0].reason('cka')
    assert picks[1].redundancy == pytest.approx(0.1)
    assert picks[1].closest == 5
    # Block 3 beats 4: its highest similarity to {5, 2} is 0.6, not 0.7.
    assert picks[2].redundancy == pytest.approx(0.6)
    assert 'cka 0.600' in picks[2].reason('cka')


def test_candidates_limit_the_picks_and_ties_go_deeper():
    sim = _similarity()
    assert [p.layer for p in suggest_layers(sim, 2, [3, 4, 5])] == [5, 3]
    sim[1, 5] = sim[5, 1] = 0.05
    assert [p.layer for p in suggest_layers(sim, 2, [0, 1, 5])] == [5, 1]
    sim[1, 5] = sim[5, 1] = 0.1  # a tie with block 0
    assert [p.layer for p in suggest_layers(sim, 2, [0, 1, 5])] == [5, 1]
    sim[0, 5] = sim[5, 0] = 0.05
    assert [p.layer for p in suggest_layers(sim, 2, [0, 1, 5])] == [5, 0]


def test_bad_requests():
    with pytest.raises(ValueError, match='between 1 and the 3'):
        suggest_layers(_similarity(), 4, [3, 4, 5])
    sim = _similarity()
    sim[3, 4] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        suggest_layers(sim, 2, [3, 4, 5])
