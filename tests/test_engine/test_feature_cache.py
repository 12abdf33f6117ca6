"""The frozen-feature cache: miss -> hit, invalidation, refusal, equal
losses, and tools/extract_features.py."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from molt.datasets.synthetic import make_ave
from molt.engine.feature_cache import prepare_feature_cache
from molt.registry import DATASETS, MODELS
from molt.utils import register_all_modules
from molt.utils.feature_store import StaleCacheError
from molt_testing import REPO, load_script

CACHED_DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic_cached.py')


@pytest.fixture(scope='module')
def ave_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ave'))
    make_ave(root, num_videos=dict(train=8, val=4, test=4))
    return root


def demo_cfg(ave_root, work_dir, max_epochs=2, dtype='float16'):
    register_all_modules()
    cfg = Config.fromfile(CACHED_DEMO)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.custom_hooks = [dict(type='FeatureCacheHook', dtype=dtype)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = ave_root
        loader.batch_size = 4
        loader.num_workers = 0
        loader.persistent_workers = False
    return cfg


class Recorder(Hook):
    """Counts backbone runs per epoch and records the training losses."""

    def __init__(self):
        self.backbone_runs, self.losses = [], []

    def before_train(self, runner):
        runner.model.visual_backbone.register_forward_hook(
            lambda *args: self.backbone_runs.__setitem__(
                -1, self.backbone_runs[-1] + 1))

    def before_train_epoch(self, runner):
        self.backbone_runs.append(0)

    def after_train_iter(self, runner, batch_idx, data_batch, outputs):
        self.losses.append(outputs['loss'].item())


def train(cfg):
    recorder = Recorder()
    cfg = copy.deepcopy(cfg)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(recorder)
    runner.train()
    return recorder, runner


def test_first_epoch_fills_later_epochs_read(ave_root, tmp_path):
    recorder, runner = train(demo_cfg(ave_root, tmp_path, max_epochs=3))
    # Epoch 1 runs the backbone (probe + 2 batches); then never again.
    assert recorder.backbone_runs[0] >= 2
    assert recorder.backbone_runs[1:] == [0, 0]
    store_dir = tmp_path / 'feature_cache' / 'AVEDataset-trainSet'
    assert (store_dir / 'complete').is_file()
    assert np.load(store_dir / 'written.npy').all()
    features = np.load(store_dir / 'features.npy', mmap_mode='r')
    assert features.dtype == np.float16 and features.shape[0] == 8


def test_cached_training_matches_online_training(ave_root, tmp_path):
    online, _ = train(
        demo_cfg(ave_root, tmp_path / 'online', max_epochs=2))
    plain_cfg = demo_cfg(ave_root, tmp_path / 'plain', max_epochs=2)
    plain_cfg.custom_hooks = []
    plain, _ = train(plain_cfg)
    # Epoch 1 runs online (and fills the float16 store): identical losses;
    # epoch 2 reads the store: equal up to the rounding of the features.
    np.testing.assert_allclose(online.losses[:2], plain.losses[:2],
                               rtol=1e-6)
    np.testing.assert_allclose(online.losses, plain.losses, rtol=2e-2)

    tool = load_script('tools/extract_features.py')
    exact_cfg = tmp_path / 'exact.py'
    cfg = demo_cfg(ave_root, tmp_path / 'exact', max_epochs=2,
                   dtype='float32')
    cfg.dump(str(exact_cfg))
    tool.main([str(exact_cfg), '--splits', 'train', 'val'])
    cached, _ = train(Config.fromfile(str(exact_cfg)))
    # Every epoch from the float32 cache: the same losses as online.
    np.testing.assert_allclose(cached.losses, plain.losses, rtol=1e-5)


def build_parts(cfg):
    model = MODELS.build(cfg.model)
    dataset_cfg = cfg.train_dataloader.dataset
    dataset = DATASETS.build(dataset_cfg)
    return model, dataset, dataset_cfg


@pytest.mark.parametrize('change,part', [
    (lambda cfg: cfg.model.visual_backbone.update(embed_dim=16),
     'backbone_weights'),
    (lambda cfg: cfg.model.adapter.update(visual_layers=[-3, -1]), 'layers'),
    (lambda cfg: cfg.train_dataloader.dataset.pipeline[1].update(size=32),
     'media_pipeline'),
    (lambda cfg: cfg.model.data_preprocessor.update(mean=(0., 0., 0.)),
     'data_preprocessor'),
])
def test_a_store_for_other_inputs_is_refused(ave_root, tmp_path, change,
                                             part):
    cfg = demo_cfg(ave_root, tmp_path)
    torch.manual_seed(0)
    model, dataset, dataset_cfg = build_parts(cfg)
    prepare_feature_cache(model, cfg.model, dataset, dataset_cfg,
                          str(tmp_path / 'cache'))
    changed = copy.deepcopy(cfg)
    change(changed)
    torch.manual_seed(0)
    model, dataset, dataset_cfg = build_parts(changed)
    with pytest.raises(StaleCacheError, match=part):
        prepare_feature_cache(model, changed.model, dataset, dataset_cfg,
                              str(tmp_path / 'cache'))


def test_same_inputs_reuse_the_store(ave_root, tmp_path):
    cfg = demo_cfg(ave_root, tmp_path)
    torch.manual_seed(0)
    first = prepare_feature_cache(*_args(cfg, tmp_path))
    torch.manual_seed(0)
    second = prepare_feature_cache(*_args(cfg, tmp_path))
    assert first.key == second.key
    torch.manual_seed(1)  # other random backbone weights
    with pytest.raises(StaleCacheError, match='backbone_weights'):
        prepare_feature_cache(*_args(cfg, tmp_path))


def _args(cfg, tmp_path):
    model, dataset, dataset_cfg = build_parts(cfg)
    return model, cfg.model, dataset, dataset_cfg, str(tmp_path / 'cache')


def test_random_augmentation_refuses_to_cache(ave_root, tmp_path):
    cfg = demo_cfg(ave_root, tmp_path)
    cfg.train_dataloader.dataset.pipeline.insert(
        2, dict(type='RandomFlip', prob=0.5))
    model, dataset, dataset_cfg = build_parts(cfg)
    with pytest.raises(ValueError, match='RandomFlip'):
        prepare_feature_cache(model, cfg.model, dataset, dataset_cfg,
                              str(tmp_path / 'cache'))


def test_sequential_schemes_cannot_cache(ave_root, tmp_path):
    cfg = demo_cfg(ave_root, tmp_path)
    cfg.model.adapter = dict(type='LAVisHAdapter')
    cfg.model.fusion = dict(type='AvgTokenFusion')
    model, dataset, dataset_cfg = build_parts(cfg)
    with pytest.raises(ValueError, match='LAVisHAdapter'):
        prepare_feature_cache(model, cfg.model, dataset, dataset_cfg,
                              str(tmp_path / 'cache'))


def test_extract_features_is_resumable(ave_root, tmp_path, capsys):
    cfg = demo_cfg(ave_root, tmp_path)
    path = tmp_path / 'cfg.py'
    cfg.dump(str(path))
    tool = load_script('tools/extract_features.py')
    tool.main([str(path), '--splits', 'test'])
    tool.main([str(path), '--splits', 'test'])
    assert 'complete, skipped' in capsys.readouterr().out
    assert (tmp_path / 'feature_cache' / 'AVEDataset-testSet' /
            'complete').is_file()
