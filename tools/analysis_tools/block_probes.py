"""Which blocks of the pretrained tiny encoders carry object and sound
identity: the per-block linear probes of ``tools/pretrain_tiny_encoders.py``
as a figure (the paper's Fig. 4 in miniature, beside
``layer_similarity.py``).

The pretraining tool fits a ridge probe on every block's pooled tokens,
for the random initialisation and for the pretrained encoder, and keeps
the held-out mAP per label group in each checkpoint's record
(``<name>.json``). This tool draws those curves, one panel per encoder,
and prints them as a table; it computes nothing itself.

Example::

    python tools/analysis_tools/block_probes.py data/pretrained \\
        --out docs/images/block_probes.png
"""
import argparse
import json
import os.path as osp
from typing import Dict, List

from molt.visualization.plots import (CurvePanel, Series, curve_figure,
                                      save_figure)
from molt.utils.tool_exit import run_tool

#: The records the pretraining tool writes, by encoder.
RECORDS = {'visual (tiny Swin-V2)': 'tiny_swinv2.json',
           'audio (tiny HTS-AT)': 'tiny_htsat.json'}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('pretrained_dir', nargs='?', default='data/pretrained',
                        help='where tools/pretrain_tiny_encoders.py wrote '
                        'the checkpoints and their records')
    parser.add_argument('--out', default='work_dirs/block_probes.png',
                        help='the PNG to write')
    return parser.parse_args(argv)


def read_probes(path: str) -> Dict[str, Dict[str, List[float]]]:
    """``{'random_init' | 'pretrained': {group: per-block mAP}}`` of one
    record, without the ``all`` group."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: build the encoders first with `make '
            'pretrained` (tools/pretrain_tiny_encoders.py).')
    with open(path) as f:
        record = json.load(f)
    try:
        return {
            state: {group: values
                    for group, values in record[state]['probe_map'].items()
                    if group != 'all'}
            for state in ('random_init', 'pretrained')
        }
    except KeyError as error:
        raise KeyError(f'{path}: no {error} in the record; rebuild it with '
                       'tools/pretrain_tiny_encoders.py --force') from None


def panels(probes: Dict[str, dict]) -> List[CurvePanel]:
    """One panel per encoder: a line per label group and state."""
    result = []
    for encoder, states in probes.items():
        # One colour per group; the random initialisation dashed.
        series = [
            Series(f'{group}, {state.replace("_", " ")}',
                   list(range(len(values))), values, color=f'C{index}',
                   linestyle='-' if state == 'pretrained' else '--')
            for state in ('pretrained', 'random_init')
            for index, (group, values) in enumerate(states[state].items())
        ]
        result.append(CurvePanel(series, title=encoder, xlabel='block',
                                 ylabel='probe mAP (%)'))
    return result


def table(probes: Dict[str, dict]) -> str:
    """Markdown: per encoder and group, the mAP of every block."""
    lines = ['| encoder | group | random init, blocks 0 → | pretrained, '
             'blocks 0 → |', '|---|---|---|---|']
    for encoder, states in probes.items():
        for group in states['pretrained']:
            cells = [' '.join(f'{v:.0f}' for v in states[state][group])
                     for state in ('random_init', 'pretrained')]
            lines.append(f'| {encoder} | {group} | {cells[0]} | {cells[1]} |')
    return '\n'.join(lines)


def main(argv=None) -> str:
    args = parse_args(argv)
    probes = {encoder: read_probes(osp.join(args.pretrained_dir, name))
              for encoder, name in RECORDS.items()}
    print(table(probes))
    fig = curve_figure(panels(probes), 'Linear probe of every block, held '
                       'out (pretraining world)')
    print(f'Wrote {save_figure(fig, args.out)}')
    return args.out


if __name__ == '__main__':
    run_tool(main)
