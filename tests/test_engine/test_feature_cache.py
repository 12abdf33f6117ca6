"""The frozen-feature cache: miss -> hit, invalidation, refusal, equal
losses, and tools/extract_features.py."""
import copy
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from molt.datasets.synthetic import make_ave
from molt.engine.feature_cache import (CacheSettings, ChunkShuffledOrder,
                                       FeatureStore, StaleCacheError,
                                       compute_features, feed_features,
                                       media_key, prepare_feature_cache,
                                       store_directory)
from molt.registry import DATASETS, MODELS
from molt.utils import register_all_modules
from molt_testing import REPO, load_script

CACHED_DEMO = str(REPO / 'configs' / 'demo' / 'ave_synthetic_cached.py')


@pytest.fixture(scope='module')
def ave_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ave'))
    make_ave(root, num_videos=dict(train=8, val=4, test=4))
    return root


def demo_cfg(ave_root, work_dir, max_epochs=2, dtype='float16', **hook):
    register_all_modules()
    cfg = Config.fromfile(CACHED_DEMO)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.custom_hooks = [dict(type='FeatureCacheHook', dtype=dtype, **hook)]
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
    assert FeatureStore(str(store_dir)).written().all()
    features = np.load(store_dir / 'features.npy', mmap_mode='r')
    assert features.dtype == np.float16 and features.shape[0] == 8


def test_cached_training_matches_online_training(ave_root, tmp_path):
    # chunk_rows=0 keeps the loader's own order in cached epochs, as online
    # (chunked orders are tested on their own).
    online, _ = train(
        demo_cfg(ave_root, tmp_path / 'online', max_epochs=2, chunk_rows=0))
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
                   dtype='float32', chunk_rows=0)
    cfg.dump(str(exact_cfg))
    tool.main([str(exact_cfg), '--splits', 'train', 'val'])
    cached, _ = train(Config.fromfile(str(exact_cfg)))
    # Every epoch from the float32 cache: the same losses as online.
    np.testing.assert_allclose(cached.losses, plain.losses, rtol=1e-5)


def build_parts(cfg):
    model = MODELS.build(cfg.model)
    model.init_weights()  # the backbones read their pretrained files
    dataset_cfg = cfg.train_dataloader.dataset
    dataset = DATASETS.build(dataset_cfg)
    return model, dataset, dataset_cfg


@pytest.mark.parametrize('change,part', [
    (lambda cfg: cfg.model.visual_backbone.update(embed_dim=16,
                                                  pretrained=None),
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
    # Other backbone weights: random instead of the pretrained file.
    cfg.model.visual_backbone.pretrained = None
    with pytest.raises(StaleCacheError, match='backbone_weights'):
        prepare_feature_cache(*_args(cfg, tmp_path))


def _args(cfg, tmp_path):
    model, dataset, dataset_cfg = build_parts(cfg)
    return model, cfg.model, dataset, dataset_cfg, str(tmp_path / 'cache')


def loader_batch(dataset, indices):
    """The dataset's samples at ``indices``, collated as the loaders do."""
    from mmengine.dataset import pseudo_collate
    return pseudo_collate([dataset[i] for i in indices])


def test_the_model_reads_fed_features_like_frames(ave_root, tmp_path):
    cfg = demo_cfg(ave_root, tmp_path, dtype='float32')
    torch.manual_seed(0)
    model, dataset, dataset_cfg = build_parts(cfg)
    model.eval()
    store = prepare_feature_cache(model, cfg.model, dataset, dataset_cfg,
                                  str(tmp_path / 'cache'), 'float32')
    batch = loader_batch(dataset, [0, 1, 2])
    with torch.no_grad():
        online = model(**model.data_preprocessor(copy.deepcopy(batch)),
                       mode='tensor')
        # An incomplete store: the features are computed, written and fed.
        feed_features(model, batch, store)
        assert 'frames' not in batch['inputs']
        fed = model(**model.data_preprocessor(batch), mode='tensor')
    for name in online:
        torch.testing.assert_close(fed[name], online[name], rtol=0, atol=0)
    assert store.written().sum() == 3
    # The rows read back (float32: exact) give the same features.
    computed, _ = compute_features(model, loader_batch(dataset, [0, 1, 2]))
    rows = loader_batch(dataset, [0, 1, 2])
    rows['inputs'] = dict(features=[
        torch.from_numpy(np.array(store.read(media_key(
            dataset.get_data_info(i))))) for i in range(3)
    ])
    feed_features(model, rows, store)
    for kind, tensors in computed.items():
        for read, expected in zip(rows['inputs']['features'][kind],
                                  tensors):
            torch.testing.assert_close(read, expected, rtol=0, atol=0)


def test_sequential_schemes_refuse_fed_features(ave_root, tmp_path):
    cfg = demo_cfg(ave_root, tmp_path)
    cfg.model.adapter = dict(type='LAVisHAdapter')
    cfg.model.fusion = dict(type='AvgTokenFusion')
    model = MODELS.build(cfg.model)
    features = dict(visual=[torch.zeros(1, 2, 4, 8)],
                    audio=[torch.zeros(1, 2, 4, 8)])
    with pytest.raises(ValueError, match='parallel'):
        model(dict(features=features), mode='tensor')


def test_hook_and_tools_share_the_settings(tmp_path):
    from molt.engine.hooks import FeatureCacheHook
    hook = FeatureCacheHook()
    assert hook.settings == CacheSettings()
    cfg = Config(dict(work_dir=str(tmp_path), custom_hooks=[
        dict(type='FeatureCacheHook', chunk_rows=8, priority='HIGH')]))
    settings = CacheSettings.from_config(cfg)
    assert settings.chunk_rows == 8 and settings.dtype == 'float16'
    assert settings.cache_dir == str(tmp_path / 'feature_cache')
    assert CacheSettings.from_config(Config(dict(work_dir='x'))) is None
    cfg.custom_hooks[0]['chunk'] = 8
    with pytest.raises(TypeError, match='chunk'):
        CacheSettings.from_config(cfg)


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


def killed_extraction(ave_root, work_dir, monkeypatch):
    """Runs tools/extract_features.py on the training split and kills it
    after its first batch; returns the config path and the store."""
    path = work_dir / 'cfg.py'
    demo_cfg(ave_root, work_dir, dtype='float32').dump(str(path))
    write = FeatureStore.write

    def killed_after_one_batch(store, keys, features):
        write(store, keys, features)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(FeatureStore, 'write', killed_after_one_batch)
        with pytest.raises(KeyboardInterrupt):
            load_script('tools/extract_features.py').main(
                [str(path), '--splits', 'train'])
    store = FeatureStore(
        str(work_dir / 'feature_cache' / 'AVEDataset-trainSet'))
    assert store.written().sum() == 4 and not store.is_complete()
    return path, store


def test_a_killed_extraction_resumes(ave_root, tmp_path, monkeypatch):
    path, store = killed_extraction(ave_root, tmp_path, monkeypatch)
    before = store.written()
    computed = []
    write = FeatureStore.write

    def counting(store, keys, features):
        computed.extend(keys)
        write(store, keys, features)

    monkeypatch.setattr(FeatureStore, 'write', counting)
    tool = load_script('tools/extract_features.py')
    tool.main([str(path), '--splits', 'train'])
    # Only the missing rows were computed, and the store is whole.
    assert sorted(computed) == sorted(
        key for key, done in zip(store.row_keys, before) if not done)
    assert store.is_complete() and store.written().all()
    fresh = tmp_path / 'fresh.py'
    demo_cfg(ave_root, tmp_path / 'fresh', dtype='float32').dump(str(fresh))
    tool.main([str(fresh), '--splits', 'train'])
    uninterrupted = FeatureStore(str(
        tmp_path / 'fresh' / 'feature_cache' / 'AVEDataset-trainSet'))
    assert uninterrupted.row_keys == store.row_keys
    np.testing.assert_allclose(
        np.load(f'{store.directory}/features.npy'),
        np.load(f'{uninterrupted.directory}/features.npy'), rtol=1e-5,
        atol=1e-6)


def test_training_completes_a_killed_fill(ave_root, tmp_path, monkeypatch):
    path, store = killed_extraction(ave_root, tmp_path, monkeypatch)
    recorder, _ = train(Config.fromfile(str(path)))
    # Epoch 1 computes online and writes the missing rows; epoch 2 reads.
    assert store.is_complete() and store.written().all()
    assert recorder.backbone_runs[0] > 0 and recorder.backbone_runs[1] == 0


def test_splits_sharing_an_annotation_file_get_their_own_store():
    class AVSBenchDataset:
        pass

    folders = {
        store_directory('cache', AVSBenchDataset(),
                        dict(type='AVSBenchDataset', split=split))
        for split in ('train', 'val', 'test')
    }
    assert len(folders) == 3
    assert store_directory('cache', AVSBenchDataset(), dict(
        ann_file='trainSet.txt')) == osp.join('cache',
                                              'AVSBenchDataset-trainSet')


def test_a_store_is_complete_only_when_every_row_is_written(tmp_path):
    layout = [('visual.0', (2, 3))]
    store = FeatureStore.create(str(tmp_path / 'store'), 'key', {},
                                lambda: layout, ['a', 'b', 'c'], 'float32')
    rows = torch.arange(18, dtype=torch.float32).reshape(3, 2, 3)
    store.write(['a', 'c'], {'visual.0': rows[[0, 2]]})
    assert store.finalize() == 1 and not store.is_complete()
    store.writer_rows = frozenset()  # rows given to other processes
    store.write(['b'], {'visual.0': rows[[1]]})
    assert store.finalize() == 1
    store.writer_rows = None
    store.write(['b'], {'visual.0': rows[[1]]})
    assert store.finalize() == 0 and store.is_complete()
    reader = FeatureStore(store.directory)
    for index, key in enumerate('abc'):
        np.testing.assert_array_equal(reader.read(key),
                                      rows[index].flatten().numpy())


def test_chunk_shuffled_order():
    from mmengine.dataset import DefaultSampler
    rows = np.array([5, 0, 1, 1, 2, 3, 4, 6, 7, 8, 9])  # 11 samples
    epochs = []
    for epoch in (0, 1):
        ranks = []
        for rank in (0, 1):
            sampler = DefaultSampler(list(range(11)), shuffle=True, seed=3)
            sampler.rank, sampler.world_size = rank, 2
            sampler.num_samples, sampler.total_size = 6, 12
            order = ChunkShuffledOrder(sampler, rows, chunk_rows=4)
            order.set_epoch(epoch)
            ranks.append(list(order))
        # Padded to 12 like DefaultSampler, dealt to the ranks in turn.
        merged = [i for pair in zip(*ranks) for i in pair]
        assert sorted(merged[:11]) == list(range(11))
        assert merged[11] == merged[0]
        # Chunks (rows 0-3, 4-7, 8-9) are visited one after the other.
        chunks = [rows[i] // 4 for i in merged[:11]]
        changes = sum(a != b for a, b in zip(chunks, chunks[1:]))
        assert changes == 2
        epochs.append(merged)
    assert epochs[0] != epochs[1]


def test_in_memory_store_trains_like_the_disk(ave_root, tmp_path):
    memory = tmp_path / 'memory'
    memory.mkdir()
    disk, _ = train(demo_cfg(ave_root, tmp_path / 'disk', chunk_rows=0))
    held, runner = train(
        demo_cfg(ave_root, tmp_path / 'held', in_memory=True,
                 memory_dir=str(memory)))
    np.testing.assert_allclose(held.losses, disk.losses, rtol=1e-6)
    reader = runner.train_dataloader.dataset.pipeline.transforms[0]._store
    assert reader._in_memory  # epoch 2 read the copy
    assert os.listdir(memory) == []  # removed when the run ended
