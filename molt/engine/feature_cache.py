"""Setting up the frozen-feature cache for a dataset, in one process or
several.

A cache key covers everything that changes the features: the backbones'
actual weights (a content hash, so a different checkpoint or a different
random initialisation both count), their configs, the tapped layers, the
data preprocessor, the media-building transforms of the pipeline, the
dataset's annotations and the autocast dtype the features are computed
under. A pipeline with random augmentation is refused.

In a multi-process run every process computes the key (they must agree),
rank 0 creates the store, and before each filling pass
:func:`assign_writer_rows` gives every row to exactly one process.
"""
import hashlib
import json
import os.path as osp
import re
from itertools import islice
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper
from torch import nn
from torch.utils.data import Sampler

from molt.datasets.transforms import LoadCachedFeatures, MediaTransform
from molt.registry import DATASETS, TRANSFORMS
from molt.utils.dist import all_ranks_agree, run_on_rank0
from molt.utils.feature_store import FeatureStore, Layout, media_key
from molt.utils.fingerprint import weights_hash
from .optim_wrappers import BF16OptimWrapper

__all__ = [
    'prepare_feature_cache', 'cache_key', 'check_deterministic',
    'feature_layout', 'sample_rows', 'epoch_indices', 'assign_writer_rows',
    'ChunkShuffledOrder', 'read_in_chunks', 'autocast_dtype'
]

_RANDOM_NAME = re.compile(r'Random|Jitter|Distortion|Augment|Mix|Cutout')
_DATASET_RUNTIME_KEYS = ('pipeline', 'test_mode', 'lazy_init',
                         'serialize_data', 'max_refetch')


def _cfg_dict(cfg) -> Optional[dict]:
    if cfg is None:
        return None
    return cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)


def _transform_class(cfg: dict):
    name = cfg['type'] if isinstance(cfg['type'], str) else None
    cls = TRANSFORMS.get(name) if name else cfg['type']
    if cls is None:
        raise KeyError(f'Unknown transform {name!r} in the pipeline.')
    return cls


def check_deterministic(pipeline: List[dict]) -> None:
    """Raises if a transform of ``pipeline`` is random.

    A transform counts as random when it is a :class:`MediaTransform` that
    says so (``deterministic = False``) or its name looks like an
    augmentation (``Random*``, ``*Jitter``, ``*Distortion``, ...).
    """
    random = []
    for cfg in pipeline:
        cls = _transform_class(cfg)
        if (issubclass(cls, MediaTransform) and not cls.deterministic) or \
                _RANDOM_NAME.search(cls.__name__):
            random.append(cls.__name__)
    if random:
        raise ValueError(
            f'The feature cache needs a deterministic pipeline, but '
            f'{", ".join(random)} augment(s) at random: cached features '
            'would freeze one draw. Remove the augmentation or the '
            'FeatureCacheHook.')


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def autocast_dtype(optim_wrapper) -> str:
    """The dtype a training step's forward is autocast to (``'none'``
    without autocast): ``'bfloat16'`` for :class:`BF16OptimWrapper`
    (``tools/train.py --amp``), mmengine's ``AmpOptimWrapper``'s cast dtype
    (float16 by default)."""
    if isinstance(optim_wrapper, BF16OptimWrapper):
        return 'bfloat16'
    if isinstance(optim_wrapper, AmpOptimWrapper):
        return str(optim_wrapper.cast_dtype or torch.float16).replace(
            'torch.', '')
    return 'none'


def cache_key(model_cfg: dict,
              dataset_cfg: dict,
              model: nn.Module,
              dtype: str,
              autocast: str = 'none') -> Tuple[str, Dict[str, str]]:
    """The cache key and its named parts (for messages).

    Args:
        model_cfg: The model config.
        dataset_cfg: The dataset config (its pipeline included).
        model: The built model (an :class:`AVModel`, weights loaded).
        dtype: Storage dtype.
        autocast: Autocast dtype of the backbones' forward (see
            :func:`autocast_dtype`).
    """
    backbones = [model.visual_backbone]
    if model.audio_backbone is not None:
        backbones.append(model.audio_backbone)
    backbone_cfgs = {
        name: {
            k: v
            for k, v in (_cfg_dict(model_cfg.get(name)) or {}).items()
            if k not in ('pretrained', 'init_cfg')
        }
        for name in ('visual_backbone', 'audio_backbone', 'audio_frontend')
    }
    media = [
        cfg for cfg in dataset_cfg['pipeline']
        if issubclass(_transform_class(cfg), MediaTransform)
    ]
    # What a dataset learns from the training split (e.g. the AVQA
    # vocabulary, handed to test datasets by tools/test.py) never changes
    # the frames and audio, so it stays out of the key.
    dataset_cls = DATASETS.get(dataset_cfg['type'])
    ignored = _DATASET_RUNTIME_KEYS + tuple(
        getattr(dataset_cls, 'LEARNED_META', ()))
    dataset = {k: v for k, v in dataset_cfg.items() if k not in ignored}
    ann_file = osp.join(dataset_cfg.get('data_root', ''),
                        dataset_cfg.get('ann_file', ''))
    parts = dict(
        backbone_weights=weights_hash(backbones),
        backbone_configs=json.dumps(backbone_cfgs, sort_keys=True,
                                    default=str),
        layers=json.dumps(
            dict(visual=model.adapter.visual_layers,
                 audio=model.adapter.audio_layers,
                 stage_maps=model.head.needs_stage_maps)),
        data_preprocessor=json.dumps(
            _cfg_dict(model_cfg.get('data_preprocessor')), sort_keys=True,
            default=str),
        media_pipeline=json.dumps(media, sort_keys=True, default=str),
        dataset=json.dumps(dataset, sort_keys=True, default=str),
        annotations=_file_hash(ann_file) if osp.isfile(ann_file) else '',
        dtype=dtype,
        autocast=autocast)
    key = hashlib.sha256(
        json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return key, parts


def feature_layout(model: nn.Module, sample: dict) -> Layout:
    """Per-sample ``(name, shape)`` of the cached features: the frozen
    backbones run once on one packed sample (what a row will hold).

    Args:
        model: An :class:`AVModel` with a parallel adapter.
        sample: A packed sample (``inputs`` with ``frames``/``audio``,
            ``data_samples``), e.g. ``dataset[0]``.
    """
    batch = model.data_preprocessor(
        dict(inputs={k: [v] for k, v in sample['inputs'].items()},
             data_samples=[sample['data_samples']]))
    frames, audio = batch['inputs']['frames'], batch['inputs']['audio']
    steps = frames.shape[1]
    frozen = model.backbone_features(
        frames.flatten(0, 1), audio.flatten(0, 1),
        model.head.needs_stage_maps)
    return [(name, tuple(t.shape[1:]))
            for name, t in model.join_features(frozen, steps).items()]


def _store_directory(cache_dir: str, dataset, dataset_cfg: dict) -> str:
    stem = osp.splitext(osp.basename(dataset_cfg.get('ann_file', 'data')))[0]
    return osp.join(cache_dir, f'{type(dataset).__name__}-{stem}')


def _media_keys(dataset) -> List[str]:
    return [media_key(dataset.get_data_info(i)) for i in range(len(dataset))]


def prepare_feature_cache(model: nn.Module,
                          model_cfg: dict,
                          dataset,
                          dataset_cfg: dict,
                          cache_dir: str,
                          dtype: str = 'float16',
                          autocast: str = 'none',
                          shuffle_rows: bool = False,
                          memory_dir: Optional[str] = None,
                          prefetch_rows: int = 0) -> FeatureStore:
    """Opens (or creates) the dataset's store, attaches it to the model and
    puts :class:`LoadCachedFeatures` first in the dataset's pipeline.

    Every process of a multi-process run calls it: all compute the key
    (and must agree), rank 0 creates the store, the others open it. The
    cache folder must be visible to every process (one file system shared
    by all machines of a multi-machine run).

    Args:
        model: An :class:`AVModel` with a parallel adapter, weights loaded.
        model_cfg: Its config.
        dataset: The built dataset (plain, not wrapped).
        dataset_cfg: Its config.
        cache_dir: Root folder of the cache; the store is
            ``<cache_dir>/<DatasetType>-<ann_file stem>``.
        dtype: Storage dtype (``'float16'`` halves the disk and I/O).
        autocast: Autocast dtype the features are computed under (see
            :func:`autocast_dtype`); part of the key.
        shuffle_rows: Lay the rows out in a fixed random order (for a
            split read in :class:`ChunkShuffledOrder`, so that a chunk of
            consecutive rows is a random subset of the videos). Only
            applies when the store is created.
        memory_dir: Where the store's in-memory copy goes (see
            :meth:`FeatureStore.copy_to_memory`); None: disk only.
        prefetch_rows: Chunk size of the order the dataset is read in
            (:class:`ChunkShuffledOrder` for a shuffled loader, sequential
            otherwise), for the readers' prefetching; 0 for another order.

    Returns:
        The store.

    Raises:
        ValueError: The adapter scheme does not read frozen features, or
            the pipeline is random.
        StaleCacheError: The store on disk was made with another key.
    """
    if not getattr(model.adapter, 'is_parallel', False):
        raise ValueError(
            f'{type(model.adapter).__name__} runs its backbones with '
            'gradients; only parallel schemes (MoLT, Mettle-style) read '
            'frozen features that can be cached.')
    check_deterministic(dataset_cfg['pipeline'])
    transforms = dataset.pipeline.transforms
    if transforms and isinstance(transforms[0], LoadCachedFeatures):
        store = FeatureStore(transforms[0].store_dir, memory_dir)
        model.attach_feature_store(store)
        return store
    key, parts = cache_key(model_cfg, dataset_cfg, model, dtype, autocast)
    all_ranks_agree(key, 'the feature cache key')
    directory = _store_directory(cache_dir, dataset, dataset_cfg)
    rows = list(dict.fromkeys(_media_keys(dataset)))
    if shuffle_rows:
        order = np.random.default_rng(int(key[:8], 16)).permutation(
            len(rows))
        rows = [rows[i] for i in order]

    def create() -> None:
        FeatureStore.create(directory, key, parts,
                            lambda: feature_layout(model, dataset[0]), rows,
                            dtype)

    run_on_rank0(create)
    if not osp.isfile(osp.join(directory, 'manifest.json')):
        raise FileNotFoundError(
            f'Rank 0 created the feature cache {directory}, but this process '
            'cannot see it: put cache_dir on a file system shared by every '
            'machine of the run.')
    store = FeatureStore(directory, memory_dir)
    transforms.insert(
        0, LoadCachedFeatures(directory, memory_dir, prefetch_rows))
    model.attach_feature_store(store)
    state = 'complete' if store.is_complete() else 'filled as samples pass'
    print_log(f'Feature cache for {osp.basename(directory)}: {directory} '
              f'({state}).', logger='current')
    return store


def sample_rows(store: FeatureStore, dataset) -> np.ndarray:
    """``(len(dataset),)`` the store row of every sample."""
    return np.array([store.rows[key] for key in _media_keys(dataset)],
                    dtype=np.int64)


def epoch_indices(sampler: Sampler, epoch: Optional[int]) -> List[int]:
    """The sample indices ``sampler`` gives this process in ``epoch`` (for
    samplers whose order depends only on their seed and epoch, like
    mmengine's ``DefaultSampler``); None: in its current epoch."""
    if epoch is not None and hasattr(sampler, 'set_epoch'):
        sampler.set_epoch(epoch)
    return list(islice(iter(sampler), len(sampler)))


def assign_writer_rows(store: FeatureStore, rows_seen: Iterable[int]) -> None:
    """Gives each row to exactly one process before a filling pass.

    A row goes to the lowest rank that sees one of its samples, so a
    sample seen by two processes (the padding of ``DefaultSampler``, or
    two samples of one video) is written once. Collective in a
    multi-process run.

    Args:
        store: The store (its :attr:`~FeatureStore.writer_rows` is set).
        rows_seen: Rows of the samples this process will compute.
    """
    rank, world_size = get_dist_info()
    if world_size == 1:
        store.writer_rows = None
        return
    everyone = all_gather_object(sorted({int(r) for r in rows_seen}))
    taken: set = set()
    for other, rows in enumerate(everyone):
        owned = set(rows) - taken
        if other == rank:
            store.writer_rows = frozenset(owned)
        taken |= owned


class ChunkShuffledOrder(Sampler):
    """A shuffling ``DefaultSampler``'s epoch, shuffled within chunks of the
    store instead of across it.

    The store's rows are cut into chunks of ``chunk_rows`` consecutive rows
    (consecutive on disk). Each epoch visits the chunks in a random order
    and the samples of a chunk in a random order, then pads and splits the
    order across processes as ``DefaultSampler`` does (interleaved, so all
    processes read the same chunk at a time). A cached epoch then reads the
    store chunk by chunk, close to sequentially, instead of at random.

    With rows laid out in a fixed random order (``shuffle_rows`` of
    :func:`prepare_feature_cache`) a chunk is a random subset of the
    videos; what differs from a full shuffle is that a batch draws its
    samples from one chunk (or two, at a chunk's end) of this fixed
    partition. The seed and epoch are the wrapped sampler's.

    Args:
        sampler: The loader's ``DefaultSampler`` (``shuffle=True``).
        rows: ``(len(dataset),)`` store row of every sample.
        chunk_rows: Rows per chunk.
    """

    def __init__(self, sampler: Sampler, rows: np.ndarray, chunk_rows: int):
        self.sampler = sampler
        self.chunks = np.asarray(rows) // chunk_rows

    def __iter__(self) -> Iterator[int]:
        sampler = self.sampler
        generator = torch.Generator()
        generator.manual_seed(sampler.seed + sampler.epoch)
        num_chunks = int(self.chunks.max()) + 1
        chunk_rank = torch.randperm(num_chunks, generator=generator).numpy()
        within = torch.rand(len(self.chunks), generator=generator).numpy()
        indices = np.lexsort((within, chunk_rank[self.chunks])).tolist()
        if sampler.round_up:
            repeats = sampler.total_size // len(indices) + 1
            indices = (indices * repeats)[:sampler.total_size]
        return iter(indices[sampler.rank:sampler.total_size:
                            sampler.world_size])

    def __len__(self) -> int:
        return len(self.sampler)

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)


def read_in_chunks(loader, rows: np.ndarray, chunk_rows: int) -> bool:
    """Makes a shuffling loader follow :class:`ChunkShuffledOrder` (its
    batch sampler draws from the wrapper; the loader's own sampler keeps
    its seed and epoch).

    Args:
        loader: A data loader whose sampler is a shuffling
            ``DefaultSampler``.
        rows: ``(len(dataset),)`` store row of every sample.
        chunk_rows: Rows per chunk; 0 leaves the loader as it is.

    Returns:
        Whether the loader now reads in chunks.
    """
    batch_sampler = loader.batch_sampler
    if isinstance(batch_sampler.sampler, ChunkShuffledOrder):
        return True
    if chunk_rows <= 0 or not getattr(loader.sampler, 'shuffle', False):
        return False
    batch_sampler.sampler = ChunkShuffledOrder(loader.sampler, rows,
                                               chunk_rows)
    return True
