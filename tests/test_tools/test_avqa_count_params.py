"""Parameter counts of the full-size MUSIC-AVQA configs (no data needed)."""
import pytest

from molt_testing import REPO, load_script

count_params = load_script('tools/analysis_tools/count_params.py')
CONFIG = str(REPO / 'configs' / 'molt' / 'avqa_swin_htsat.py')


def test_molt_avqa_is_near_the_papers_row():
    """Per-adapter weights at full width; the paper's AVQA row is 25.9 % of
    441.4 M, i.e. 114.3 M trainable besides the decoder
    (docs/en/benchmarks.md)."""
    rows = count_params.main([
        CONFIG, '--paper-count', '--cfg-options', 'model.head.num_answers=42',
        'model.head.vocab_size=93'
    ])[CONFIG]
    assert rows['visual backbone'][0] == rows['audio backbone'][0] == 0
    assert rows['adapter'][0] == pytest.approx(102.87e6, rel=1e-3)
    paper = rows['paper']
    assert paper['trainable_without_head'] == pytest.approx(114.3e6, rel=0.1)
    assert paper['total'] == pytest.approx(441.4e6, rel=0.1)


def test_vocabulary_sizes_must_be_given():
    # The tiny demo model fails the same way, without building Swin-V2-L.
    demo = str(REPO / 'configs' / 'demo' / 'avqa_synthetic.py')
    with pytest.raises(ValueError, match='num_answers'):
        count_params.main([demo])
