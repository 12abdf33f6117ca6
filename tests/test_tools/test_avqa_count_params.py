"""Parameter counts of the full-size MUSIC-AVQA configs (no data needed)."""
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    'count_params', REPO / 'tools' / 'analysis_tools' / 'count_params.py')
count_params = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(count_params)
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
