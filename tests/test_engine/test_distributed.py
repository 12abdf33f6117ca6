"""Multi-process runs on CPU (gloo, chosen automatically): training and
testing with tools/dist_train.sh / dist_test.sh against one process with
the same global batch, the feature cache filled by two processes, and the
SLURM launcher."""
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from molt.datasets.synthetic import make_ave
from molt.utils.dist import choose_backend, setup_distributed
from molt.engine.feature_cache import FeatureStore
from molt_testing import REPO, free_port, load_script

CACHED_DEMO = REPO / 'configs' / 'demo' / 'ave_synthetic_cached.py'
SPLITS = dict(train=8, val=5, test=7)  # val and test: odd, 2 processes

#: A hook (imported by the runs through custom_imports) that records, per
#: process, how often the visual backbone ran in each training epoch.
COUNTER = '''
import json, os.path as osp
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from molt.registry import HOOKS


@HOOKS.register_module()
class DistBackboneCounter(Hook):

    def before_train(self, runner):
        self.runs, self.batches, self.losses = [], [], []
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        model.visual_backbone.register_forward_hook(self._count)

    def _count(self, *args):
        if self.runs:
            self.runs[-1] += 1

    def before_train_epoch(self, runner):
        self.runs.append(0)

    def after_train_iter(self, runner, batch_idx, data_batch, outputs):
        self.batches.append(
            [s.video_id for s in data_batch['data_samples']])
        self.losses.append(float(outputs['loss']))

    def after_train(self, runner):
        path = osp.join(runner.work_dir, f'train_record_{get_rank()}.json')
        with open(path, 'w') as f:
            json.dump(dict(backbone_runs=self.runs, batches=self.batches,
                           losses=self.losses), f)
'''


def write_config(folder: Path, data_root: str, batch_size: int,
                 count: bool = True, dtype: str = 'float16') -> str:
    """The cached AVE demo, 2 epochs, on ``data_root``, without the head's
    dropout (whose masks depend on how a batch is split), with random
    encoders; ``count`` adds the DistBackboneCounter hook.

    Random encoders: with the (two-step) pretrained ones, every step's
    loss still agreed to 1e-5 between 1 and 2 processes, but one
    cross-attention projection ended more than 1e-4 apart (2026-12-07).
    The processes sum in other orders and threads, and Adam's normalised
    steps likely magnify differences in gradients near zero; this test is
    about the batches and the gradient average, not the encoders."""
    loader = dict(batch_size=batch_size, num_workers=0,
                  persistent_workers=False,
                  dataset=dict(data_root=data_root))
    hooks = [dict(type='FeatureCacheHook', dtype=dtype)]
    extra = {}
    if count:
        hooks.append(dict(type='DistBackboneCounter'))
        extra['custom_imports'] = dict(imports=['dist_backbone_counter'],
                                       allow_failed_imports=False)
    cfg = Config(
        dict(_base_=str(CACHED_DEMO),
             custom_hooks=hooks,
             model=dict(head=dict(dropout=0.0),
                        visual_backbone=dict(pretrained=None),
                        audio_backbone=dict(pretrained=None)),
             train_cfg=dict(max_epochs=2),
             train_dataloader=loader, val_dataloader=loader,
             test_dataloader=loader, **extra))
    path = folder / f'ave_cached_bs{batch_size}_{dtype}{"_n" * count}.py'
    path.write_text(cfg.pretty_text)
    return str(path)


def dist_env(folder: Path) -> dict:
    env = dict(os.environ, PORT=str(free_port()), PYTHON=sys.executable,
               OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        [str(folder), str(REPO), env.get('PYTHONPATH', '')])
    return env


def run_tool(script: str, args, folder: Path) -> None:
    """Runs ``bash tools/<script> ...`` (2 processes) in ``folder``."""
    result = subprocess.run(
        ['bash', str(REPO / 'tools' / script), *args], cwd=folder,
        env=dist_env(folder), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[
        -3000:]


def last_checkpoint(work_dir: Path) -> str:
    return (work_dir / 'last_checkpoint').read_text().strip()


@pytest.fixture(scope='module')
def dist_data(tmp_path_factory):
    """A folder with the synthetic AVE set and the counting hook."""
    folder = tmp_path_factory.mktemp('dist')
    make_ave(str(folder / 'ave'), num_videos=SPLITS)
    (folder / 'dist_backbone_counter.py').write_text(COUNTER)
    return folder, str(folder / 'ave')


@pytest.fixture(scope='module')
def runs(dist_data):
    """The same training (global batch 4) in 1 and in 2 processes."""
    folder, data_root = dist_data
    sys.path.insert(0, str(folder))
    try:
        single = folder / 'single'
        load_script('tools/train.py').main([
            write_config(folder, data_root, 4), '--work-dir', str(single)
        ])
    finally:
        sys.path.remove(str(folder))
    double = folder / 'double'
    run_tool('dist_train.sh',
             [write_config(folder, data_root, 2), '2', '--work-dir',
              str(double)], folder)
    return dict(folder=folder, single=single, double=double,
                data_root=data_root)


def trainable_state(checkpoint: str) -> dict:
    state = torch.load(checkpoint, map_location='cpu',
                       weights_only=False)['state_dict']
    return {k: v for k, v in state.items() if 'backbone' not in k}


def test_gloo_is_chosen_without_cuda(monkeypatch):
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert choose_backend(cfg) == 'gloo'
    # Given on the command line: kept.
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert choose_backend(
        cfg, {'env_cfg.dist_cfg.backend': 'nccl'}) == 'nccl'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert choose_backend(cfg) == 'nccl'
    # A single process changes nothing else.
    cfg = Config(dict(launcher='none'))
    setup_distributed(cfg)
    assert 'model_wrapper_cfg' not in cfg


def train_record(work_dir: Path, rank: int = 0) -> dict:
    return json.loads((work_dir / f'train_record_{rank}.json').read_text())


def test_two_processes_train_like_one(runs):
    single, double = runs['single'], runs['double']
    # The automatic choice (the run's config as the Runner dumped it), not
    # an option of the test.
    dumped = next(double.glob('ave_cached_bs2*.py'))
    assert "backend='gloo'" in dumped.read_text()
    # The same global batches (DefaultSampler deals one order to the ranks
    # in turn, in cached epochs too) and so the same losses: DDP averages
    # the ranks' equal-sized local means.
    one = train_record(single)
    ranks = [train_record(double, rank) for rank in (0, 1)]
    assert len(one['batches']) == 4
    for step, batch in enumerate(one['batches']):
        assert sorted(batch) == sorted(ranks[0]['batches'][step] +
                                       ranks[1]['batches'][step])
        mean = (ranks[0]['losses'][step] + ranks[1]['losses'][step]) / 2
        assert mean == pytest.approx(one['losses'][step], rel=1e-5)
    one = trainable_state(last_checkpoint(single))
    two = trainable_state(last_checkpoint(double))
    assert one.keys() == two.keys() and one
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=1e-4,
                                   atol=1e-5, msg=name)


def test_two_processes_fill_the_cache_like_one(runs):
    for split in ('trainSet', 'valSet'):
        one = FeatureStore(
            str(runs['single'] / 'feature_cache' / f'AVEDataset-{split}'))
        two = FeatureStore(
            str(runs['double'] / 'feature_cache' / f'AVEDataset-{split}'))
        assert one.is_complete() and two.is_complete()
        assert two.row_keys == one.row_keys and two.key == one.key
        np.testing.assert_allclose(
            np.load(f'{two.directory}/features.npy').astype(np.float32),
            np.load(f'{one.directory}/features.npy').astype(np.float32),
            rtol=1e-3, atol=1e-3)
        # Both processes wrote rows (each its own).
        assert sorted(os.listdir(f'{two.directory}/written')) == [
            'rank0.bin', 'rank1.bin'
        ]
    # Epoch 1 ran the backbones on both processes, epoch 2 on neither.
    for rank in (0, 1):
        runs_per_epoch = train_record(runs['double'], rank)['backbone_runs']
        assert runs_per_epoch[0] > 0 and runs_per_epoch[1] == 0


def test_two_process_test_counts_every_sample_once(runs):
    folder, checkpoint = runs['folder'], last_checkpoint(runs['double'])
    config = write_config(folder, runs['data_root'], 2)
    run_tool('dist_test.sh', [
        config, checkpoint, '2', '--work-dir', str(folder / 'test2'),
        '--out', str(folder / 'two.pkl')
    ], folder)
    load_script('tools/test.py').main([
        config, checkpoint, '--work-dir', str(folder / 'test1'), '--out',
        str(folder / 'one.pkl')
    ])
    with open(folder / 'two.pkl', 'rb') as f:
        two = pickle.load(f)
    with open(folder / 'one.pkl', 'rb') as f:
        one = pickle.load(f)
    ids = [sample['video_id'] for sample in two]
    assert len(ids) == SPLITS['test'] and len(set(ids)) == len(ids)
    assert ids == [sample['video_id'] for sample in one]
    for a, b in zip(two, one):
        assert torch.equal(a['pred_label'], b['pred_label'])


def test_two_processes_extract_like_one(dist_data):
    """tools/extract_features.py: two processes share the rows (test: 7
    videos) and write the store one process writes."""
    folder, data_root = dist_data
    path = write_config(folder, data_root, 2, count=False, dtype='float32')
    load_script('tools/extract_features.py').main(
        [path, '--splits', 'test', '--work-dir', str(folder / 'x1')])
    env = dist_env(folder)
    result = subprocess.run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
        '2', '--master_port', env['PORT'],
        str(REPO / 'tools' / 'extract_features.py'), path, '--splits',
        'test', '--work-dir', str(folder / 'x2'), '--launcher', 'pytorch'
    ], cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'wrote 7 videos' in result.stdout
    one, two = (FeatureStore(str(folder / x / 'feature_cache' /
                                 'AVEDataset-testSet'))
                for x in ('x1', 'x2'))
    assert one.is_complete() and two.is_complete()
    assert two.row_keys == one.row_keys
    np.testing.assert_allclose(np.load(f'{two.directory}/features.npy'),
                               np.load(f'{one.directory}/features.npy'),
                               rtol=1e-5, atol=1e-6)
    flags = [
        np.fromfile(f'{two.directory}/written/rank{r}.bin', np.uint8)
        for r in (0, 1)
    ]
    # Each row written by exactly one process: 4 + 3.
    assert (flags[0] + flags[1] == 1).all()
    assert sorted([int(flags[0].sum()), int(flags[1].sum())]) == [3, 4]


SLURM_PROBE = '''
import torch, torch.distributed as dist
from mmengine.config import Config
from molt.utils.dist import setup_distributed
cfg = Config(dict(launcher='slurm', env_cfg=dict(dist_cfg=dict(
    backend='nccl'))))
setup_distributed(cfg)
total = torch.tensor([dist.get_rank() + 1])
dist.all_reduce(total)
print(dist.get_rank(), dist.get_world_size(), int(total),
      cfg.env_cfg.dist_cfg.backend, cfg.model_wrapper_cfg.device_ids)
'''


def test_slurm_launcher_on_cpu(tmp_path):
    """Two tasks started as srun starts them (SLURM_* variables)."""
    port = str(free_port())
    procs = []
    for rank in range(2):
        env = dict(os.environ, SLURM_PROCID=str(rank), SLURM_NTASKS='2',
                   SLURM_LOCALID=str(rank), SLURM_NODELIST='localhost',
                   MASTER_ADDR='127.0.0.1', MASTER_PORT=port)
        env['PYTHONPATH'] = str(REPO)
        procs.append(subprocess.Popen(
            [sys.executable, '-c', SLURM_PROBE], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=120) for p in procs]
    for rank, (out, err) in enumerate(outputs):
        last = out.strip().splitlines()[-1] if out.strip() else ''
        assert last.split() == [str(rank), '2', '3', 'gloo', 'None'], err
