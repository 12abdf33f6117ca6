"""Parameter counts of the full-size MUSIC-AVQA configs (no data needed)."""
import pytest

from molt_testing import REPO, load_script

count_params = load_script('tools/analysis_tools/count_params.py')
CONFIG = str(REPO / 'configs' / 'molt' / 'avqa_swin_htsat.py')


def test_molt_avqa_is_near_the_papers_trainable_count():
    rows = count_params.main([
        CONFIG, '--cfg-options', 'model.head.num_answers=42',
        'model.head.vocab_size=95'
    ])[CONFIG]
    assert rows['visual backbone'][0] == rows['audio backbone'][0] == 0
    # The paper reports 25.9 M trainable parameters for MoLT on AVQA.
    assert 24.5e6 < rows['total'][0] < 26.5e6


def test_vocabulary_sizes_must_be_given():
    with pytest.raises(ValueError, match='num_answers is None'):
        count_params.main([CONFIG])
