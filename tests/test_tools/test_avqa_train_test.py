"""tools/train.py and tools/test.py on synthetic MUSIC-AVQA data, and the
vocabulary's round trip through a checkpoint."""
import json
import os
import os.path as osp

import mmengine
import pytest
import torch

from molt.datasets.music_avqa import UNKNOWN_ANSWER
from molt.datasets.synthetic import make_avqa
from molt_testing import REPO, load_script, runner_options

DEMO = str(REPO / 'configs' / 'demo' / 'avqa_synthetic.py')



@pytest.fixture(scope='module')
def avqa_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('avqa_synthetic'))
    make_avqa(root, num_videos=dict(train=4, val=2, test=2))
    return root


def copy_without_training_file(src: str, dst: str, train_entries) -> str:
    """The test split and media of ``src``, with ``train_entries`` (or no
    file at all when None) as avqa-train.json."""
    os.makedirs(dst)
    for name in ('frames', 'audio'):
        os.symlink(osp.join(src, name), osp.join(dst, name))
    for name in ('avqa-val.json', 'avqa-test.json'):
        with open(osp.join(src, name)) as f, open(osp.join(dst, name),
                                                  'w') as g:
            g.write(f.read())
    if train_entries is not None:
        with open(osp.join(dst, 'avqa-train.json'), 'w') as f:
            json.dump(train_entries, f)
    return dst


def test_train_then_test_with_the_checkpoint_vocabulary(avqa_root, tmp_path):
    train, test = load_script('tools/train.py'), load_script('tools/test.py')
    work_dir = str(tmp_path / 'work')
    runner = train.main([DEMO, '--work-dir', work_dir] +
                        runner_options(avqa_root, max_epochs=1))
    vocabulary = runner.train_dataloader.dataset.metainfo['vocabulary']
    head = runner.model.head
    assert head.num_answers == len(vocabulary['answers'])
    assert head.vocab_size == len(vocabulary['words'])
    with open(osp.join(work_dir, 'vocab.json')) as f:
        assert json.load(f) == vocabulary
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    meta = torch.load(checkpoint, weights_only=False)['meta']
    assert meta['dataset_meta']['vocabulary'] == vocabulary

    # Another training file (other answers, so other ids and sizes), then
    # none at all: the test split still uses the checkpoint's vocabulary.
    with open(osp.join(avqa_root, 'avqa-train.json')) as f:
        changed = json.load(f)
    for entry in changed:
        entry['anser'] = 'purple'
    for name, entries in (('changed', changed), ('missing', None)):
        root = copy_without_training_file(avqa_root, str(tmp_path / name),
                                          entries)
        out = str(tmp_path / f'{name}.pkl')
        metrics = test.main([
            DEMO, checkpoint, '--work-dir', str(tmp_path / f'test_{name}'),
            '--out', out
        ] + runner_options(root, max_epochs=1))
        assert 0 <= metrics['avqa/Overall'] <= 100
        assert set(metrics) >= {'avqa/Audio/Counting', 'avqa/Visual'}
        # Ground-truth ids follow the checkpoint's answers; a test answer
        # the training split never gave is UNKNOWN_ANSWER (counted wrong).
        samples = mmengine.load(out)
        assert any(s['answer'] in vocabulary['answers'] for s in samples)
        for sample in samples:
            answer_id = int(sample['gt_answer'])
            if sample['answer'] in vocabulary['answers']:
                assert vocabulary['answers'][answer_id] == sample['answer']
            else:
                assert answer_id == UNKNOWN_ANSWER
