"""On-disk store of one dataset's frozen backbone features.

Layout of a store directory::

    manifest.json   the cache key (and what went into it), the per-sample
                    layout (name, shape), the storage dtype and the media
                    key of every row
    features.npy    (num_rows, row_size) array, memory-mapped
    written.npy     (num_rows,) uint8: which rows hold features
    complete        marker: every row is written; readers start reading

A row holds one video's features (samples that share a video, e.g. the
questions of MUSIC-AVQA or AVE rows with the same id, share a row; see
:func:`media_key`). Rows are written by the training process (the model)
as it computes features online and read by data-loader workers through a
read-only memory map once the store is complete, so a batch is either all
cached or all online.
"""
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Mapping, Sequence, Tuple

import numpy as np
import torch

__all__ = ['FeatureStore', 'StaleCacheError', 'media_key']

Layout = List[Tuple[str, Tuple[int, ...]]]


class StaleCacheError(RuntimeError):
    """A store on disk was made with a different key."""


def media_key(info: Mapping) -> str:
    """The row of a sample: its ``video_id``, else its ``sample_idx``.

    Accepts a data-info dict, a transform's results or an
    :class:`AVDataSample`.
    """
    video_id = info.get('video_id')
    if video_id is not None:
        return str(video_id)
    return f"#{info.get('sample_idx')}"


class FeatureStore:
    """Reads and writes the features of one dataset.

    Args:
        directory: The store's folder (must hold a manifest; see
            :meth:`create`).
    """

    def __init__(self, directory: str):
        self.directory = directory
        with open(osp.join(directory, 'manifest.json')) as f:
            manifest = json.load(f)
        self.key = manifest['key']
        self.layout: Layout = [(name, tuple(shape))
                               for name, shape in manifest['layout']]
        self.dtype = np.dtype(manifest['dtype'])
        self.rows = {key: row for row, key in enumerate(manifest['rows'])}
        self._sizes = [int(np.prod(shape)) for _, shape in self.layout]
        self._features = None
        self._written = None

    # -- creation ----------------------------------------------------------
    @classmethod
    def create(cls, directory: str, key: str, key_parts: dict,
               layout: Callable[[], Layout], rows: Sequence[str],
               dtype: str = 'float16') -> 'FeatureStore':
        """Opens the store in ``directory``, creating it if absent.

        Args:
            directory: The store's folder.
            key: Cache key the store must have been made with.
            key_parts: What went into the key, for messages.
            layout: Returns the per-sample ``(name, shape)`` list; only
                called when the store is created.
            rows: The media key of every row (see :func:`media_key`).
            dtype: Storage dtype.

        Raises:
            StaleCacheError: The directory holds a store with another key;
                the message lists what differs.
        """
        manifest_path = osp.join(directory, 'manifest.json')
        if osp.isfile(manifest_path):
            with open(manifest_path) as f:
                manifest = json.load(f)
            if manifest['key'] != key:
                changed = sorted(
                    name for name in set(key_parts) | set(manifest['parts'])
                    if key_parts.get(name) != manifest['parts'].get(name))
                raise StaleCacheError(
                    f'The feature cache in {directory} was made for other '
                    f'inputs (differs in: {", ".join(changed)}). Delete the '
                    'folder to rebuild it, or set another cache_dir.')
            return cls(directory)
        os.makedirs(directory, exist_ok=True)
        layout = layout()
        row_size = sum(int(np.prod(shape)) for _, shape in layout)
        np.lib.format.open_memmap(
            osp.join(directory, 'features.npy'), mode='w+',
            dtype=np.dtype(dtype), shape=(len(rows), row_size)).flush()
        np.save(osp.join(directory, 'written.npy'),
                np.zeros(len(rows), np.uint8))
        with open(manifest_path + '.part', 'w') as f:
            json.dump(
                dict(key=key, parts=key_parts, layout=layout, dtype=dtype,
                     rows=list(rows)), f)
        os.replace(manifest_path + '.part', manifest_path)
        return cls(directory)

    # -- reading -----------------------------------------------------------
    def is_complete(self) -> bool:
        return osp.isfile(osp.join(self.directory, 'complete'))

    def read(self, key: str) -> np.ndarray:
        """The flat feature row of a media key (a memory-map view, storage
        dtype); :meth:`unpack` splits a batch of rows."""
        if self._features is None:
            self._features = np.load(
                osp.join(self.directory, 'features.npy'), mmap_mode='r')
        return self._features[self.rows[key]]

    def unpack(self, rows: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``(B, row_size)`` rows -> ``{name: (B, *shape)}``."""
        parts = torch.split(rows, self._sizes, dim=1)
        return {
            name: part.reshape(rows.shape[0], *shape)
            for (name, shape), part in zip(self.layout, parts)
        }

    # -- writing -----------------------------------------------------------
    def write(self, keys: Sequence[str],
              features: Dict[str, torch.Tensor]) -> None:
        """Stores the features of a batch.

        Args:
            keys: Media keys, one per batch element.
            features: ``{name: (B, *shape)}`` per layout entry.
        """
        if self._written is None:
            self._features = np.load(
                osp.join(self.directory, 'features.npy'), mmap_mode='r+')
            self._written = np.load(
                osp.join(self.directory, 'written.npy'), mmap_mode='r+')
        indices = [self.rows[key] for key in keys]
        flat = torch.cat([
            features[name].detach().reshape(len(indices), -1)
            for name, _ in self.layout
        ], dim=1)
        self._features[indices] = flat.float().cpu().numpy().astype(
            self.dtype)
        self._written[indices] = 1
        if self._written.all() and not self.is_complete():
            self._features.flush()
            self._written.flush()
            open(osp.join(self.directory, 'complete'), 'w').close()
