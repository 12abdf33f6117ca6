import pytest

from molt.models.utils import (BackboneLayout, pair_blocks_by_stage,
                               pair_by_relative_depth, resolve_layers)


def test_stage_names_on_swinv2_large_depth():
    assert resolve_layers('early', 24) == [0, 1, 2, 3]
    assert resolve_layers('late', 24) == [22, 23]
    assert resolve_layers('mid', 24) == list(range(4, 22))
    assert resolve_layers('all', 12) == list(range(12))
    assert resolve_layers('early+late', 12) == [0, 1, 2, 3, 10, 11]
    assert resolve_layers([-1, 0, 'late', 11], 12) == [0, 10, 11]


def test_table4_is_seven_distinct_selections():
    rows = ['early', 'mid', 'late', 'early+mid', 'early+late', 'mid+late',
            'early+mid+late']
    selections = {tuple(resolve_layers(r, 12)) for r in rows}
    assert len(selections) == 7
    assert resolve_layers('early+mid+late', 12) == resolve_layers('all', 12)


def test_bad_selections_name_the_field():
    with pytest.raises(ValueError, match="adapter.visual_layers.*'lat'"):
        resolve_layers('lat', 24, 'adapter.visual_layers')
    with pytest.raises(IndexError, match='adapter.audio_layers.*12'):
        resolve_layers([12], 12, 'adapter.audio_layers')
    with pytest.raises(ValueError, match="'mid' is empty"):
        resolve_layers('mid', 6)
    with pytest.raises(ValueError, match='empty'):
        resolve_layers([], 6)


def test_relative_depth_pairing():
    assert pair_by_relative_depth([22, 23], [10, 11]) == [0, 1]
    visual, audio = list(range(24)), list(range(12))
    to_audio = pair_by_relative_depth(visual, audio)
    assert to_audio[0] == 0 and to_audio[-1] == 11
    assert to_audio == sorted(to_audio)
    assert pair_by_relative_depth(audio, visual)[5] == round(5 * 23 / 11)
    assert pair_by_relative_depth([5], [1, 2, 3]) == [2]


def _layout(depths, dims=(1, 2, 3, 4)):
    stages = [s for s, d in enumerate(depths) for _ in range(d)]
    return BackboneLayout(dims=[dims[s] for s in stages],
                          num_tokens=[1] * len(stages), stages=stages)


def test_stage_pairing_swinv2_large_with_htsat():
    swin, htsat = _layout((2, 2, 18, 2)), _layout((2, 2, 6, 2))
    pairs = pair_blocks_by_stage(swin, htsat)
    assert len(pairs) == 12
    assert [pairs[i] for i in range(4)] == [0, 1, 2, 3]
    # HTS-AT stage-3 block k <-> Swin stage-3 block 3k + 2.
    assert [pairs[4 + k] - 4 for k in range(6)] == [3 * k + 2
                                                    for k in range(6)]
    assert [pairs[10], pairs[11]] == [22, 23]


def test_stage_pairing_errors():
    with pytest.raises(ValueError, match='stages'):
        pair_blocks_by_stage(_layout((2, 2, 2)), _layout((1, 1, 1, 1)))
    with pytest.raises(ValueError, match='swap'):
        pair_blocks_by_stage(_layout((1, 1, 1, 1)), _layout((2, 1, 1, 1)))
