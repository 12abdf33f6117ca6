"""block_probes.py: the per-block probe curves of the pretrained tiny
encoders' records, as a table and a PNG."""
import json
import re

import pytest

from molt_testing import load_script

tool = load_script('tools/analysis_tools/block_probes.py')


def test_draws_and_tabulates_every_block(_demo_pretrained_encoders, tmp_path,
                                         capsys):
    out = tmp_path / 'probes.png'
    tool.main([str(_demo_pretrained_encoders), '--out', str(out)])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    printed = capsys.readouterr().out
    record = json.loads(
        (_demo_pretrained_encoders / 'tiny_htsat.json').read_text())
    tones = record['pretrained']['probe_map']['tones']
    row = re.search(r'\| audio \(tiny HTS-AT\) \| tones \| [^|]+ \| ([^|]+) \|',
                    printed)
    assert row is not None, printed
    assert row.group(1).split() == [f'{v:.0f}' for v in tones]
    # Four groups (shapes, colours, tones, noises), never the 'all' mean.
    assert len(re.findall(r'^\| (visual|audio)', printed, re.M)) == 4


def test_missing_records_say_how_to_build_them(tmp_path):
    with pytest.raises(FileNotFoundError, match='make pretrained'):
        tool.main([str(tmp_path), '--out', str(tmp_path / 'x.png')])
