"""On-disk store of one dataset's frozen backbone features.

Layout of a store directory::

    manifest.json        the cache key (and what went into it), the
                         per-sample layout (name, shape), the storage dtype
                         and the media key of every row
    features.npy         (num_rows, row_size) array in the storage dtype
    written/rank<r>.bin  (num_rows,) bytes, one file per writing process:
                         1 where that process wrote the row
    complete             marker: every row is written; readers start reading

A row holds one video's features (samples that share a video, e.g. the
questions of MUSIC-AVQA or AVE rows with the same id, share a row; see
:func:`media_key`).

Several processes (the ranks of a multi-process run, on one machine or on
several sharing a file system) fill one store together: each writes the
rows it is given (:attr:`FeatureStore.writer_rows`, so that no two
processes write the same row) with positioned writes, and flags them in its
own ``written`` file. :meth:`FeatureStore.finalize`, called by every
process at the end of a pass, checks the union of the flags and only then
writes ``complete``. A store left incomplete (a run killed while filling)
keeps its written rows; the next run fills the rest.

Readers map ``features.npy`` read-only, or its copy in memory (see
:meth:`FeatureStore.copy_to_memory`), and hand out one row at a time as a
view; the disk is asked for each row, or each chunk of rows a chunked
order reads next, as one large request.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log
from tqdm import tqdm

__all__ = ['FeatureStore', 'StaleCacheError', 'media_key', 'Layout']

Layout = List[Tuple[str, Tuple[int, ...]]]
#: Bytes per sequential read when copying a store.
COPY_CHUNK_BYTES = 64 << 20


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


def _data_offset(path: str) -> int:
    """Byte offset of the array data in a ``.npy`` file."""
    return np.load(path, mmap_mode='r').offset


def _write_marker(path: str) -> None:
    with open(path + '.part', 'w') as f:
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + '.part', path)


class FeatureStore:
    """Reads and writes the features of one dataset.

    Args:
        directory: The store's folder (must hold a manifest; see
            :meth:`create`).
        memory_dir: Where :meth:`copy_to_memory` puts (and readers look
            for) an in-memory copy, e.g. ``/dev/shm``; None reads from
            ``directory`` only.
        prefetch_rows: For readers whose order stays within chunks of this
            many consecutive rows (:class:`ChunkShuffledOrder`, or a
            sequential pass): the first read in a chunk asks the disk for
            the whole chunk at once. 0 asks for one row at a time.
    """

    def __init__(self,
                 directory: str,
                 memory_dir: Optional[str] = None,
                 prefetch_rows: int = 0):
        self.directory = directory
        with open(osp.join(directory, 'manifest.json')) as f:
            manifest = json.load(f)
        self.key = manifest['key']
        self.layout: Layout = [(name, tuple(shape))
                               for name, shape in manifest['layout']]
        self.dtype = np.dtype(manifest['dtype'])
        self.row_keys: List[str] = manifest['rows']
        self.rows = {key: row for row, key in enumerate(self.row_keys)}
        self._sizes = [int(np.prod(shape)) for _, shape in self.layout]
        self.row_bytes = sum(self._sizes) * self.dtype.itemsize
        self.memory_dir = memory_dir
        self._memory_path = self.memory_path
        self.prefetch_rows = prefetch_rows
        self._chunk = None  # chunk of the last read
        #: Rows this process writes (None: every row it computes).
        self.writer_rows: Optional[frozenset] = None
        self._features = None  # read-only map, disk or memory copy
        self._in_memory = False
        self._offset = 0
        self._read_fd = None
        self._write_fd = None
        self._flags_fd = None

    @property
    def num_rows(self) -> int:
        """Rows of the store (one per video)."""
        return len(self.row_keys)

    # -- creation ----------------------------------------------------------
    @classmethod
    def create(cls, directory: str, key: str, key_parts: dict,
               layout: Callable[[], Layout], rows: Sequence[str],
               dtype: str = 'float16', **kwargs) -> 'FeatureStore':
        """Opens the store in ``directory``, creating it if absent.

        Not for several processes at once: in a multi-process run one
        process creates (see :func:`~.setup.prepare_feature_cache`).

        Args:
            directory: The store's folder.
            key: Cache key the store must have been made with.
            key_parts: What went into the key, for messages.
            layout: Returns the per-sample ``(name, shape)`` list; only
                called when the store is created.
            rows: The media key of every row, in the order of the rows on
                disk (see :func:`media_key`).
            dtype: Storage dtype.
            **kwargs: Passed to the constructor.

        Raises:
            StaleCacheError: The directory holds a store with another key;
                the message lists what differs.
        """
        manifest_path = osp.join(directory, 'manifest.json')
        if osp.isfile(manifest_path):
            cls.check_key(directory, key, key_parts)
            return cls(directory, **kwargs)
        os.makedirs(osp.join(directory, 'written'), exist_ok=True)
        layout = layout()
        row_size = sum(int(np.prod(shape)) for _, shape in layout)
        # A sparse file: rows take disk space as they are written.
        np.lib.format.open_memmap(
            osp.join(directory, 'features.npy'), mode='w+',
            dtype=np.dtype(dtype), shape=(len(rows), row_size)).flush()
        with open(manifest_path + '.part', 'w') as f:
            json.dump(
                dict(key=key, parts=key_parts, layout=layout, dtype=dtype,
                     rows=list(rows)), f)
        os.replace(manifest_path + '.part', manifest_path)
        return cls(directory, **kwargs)

    @staticmethod
    def check_key(directory: str, key: str, key_parts: dict) -> None:
        """Raises :class:`StaleCacheError` unless the store in
        ``directory`` was made with ``key``."""
        with open(osp.join(directory, 'manifest.json')) as f:
            manifest = json.load(f)
        if manifest['key'] != key:
            changed = sorted(
                name for name in set(key_parts) | set(manifest['parts'])
                if key_parts.get(name) != manifest['parts'].get(name))
            raise StaleCacheError(
                f'The feature cache in {directory} was made for other '
                f'inputs (differs in: {", ".join(changed)}). Delete the '
                'folder to rebuild it, or set another cache_dir.')

    # -- state -------------------------------------------------------------
    def is_complete(self) -> bool:
        return osp.isfile(osp.join(self.directory, 'complete'))

    def written(self) -> np.ndarray:
        """``(num_rows,)`` bool: rows some process has written (the union of
        every ``written/rank*.bin``)."""
        written = np.zeros(self.num_rows, bool)
        folder = osp.join(self.directory, 'written')
        for name in sorted(os.listdir(folder)):
            if name.endswith('.bin'):
                flags = np.fromfile(osp.join(folder, name), np.uint8)
                written[:len(flags)] |= flags.astype(bool)
        return written

    def finalize(self) -> int:
        """Marks the store complete once every row is written.

        Collective: every process of a multi-process run calls it at the
        end of a pass. Each makes its writes durable; after a barrier,
        rank 0 checks the union of the processes' flags (checked, not
        assumed) and writes ``complete``; after a second barrier every
        process sees the same state.

        Returns:
            The number of rows still missing (0 when complete).
        """
        self._sync()
        barrier()
        rank, _ = get_dist_info()
        if rank == 0 and not self.is_complete() and self.written().all():
            _write_marker(osp.join(self.directory, 'complete'))
        barrier()
        if self.is_complete():
            return 0
        return int((~self.written()).sum())

    # -- reading -----------------------------------------------------------
    def read(self, key: str) -> np.ndarray:
        """The flat feature row of a media key: a read-only view in the
        storage dtype; :meth:`unpack` splits a batch of rows."""
        row = self.rows[key]
        features = self._map()
        if not self._in_memory:
            # Large requests rather than page by page: the row, or the
            # whole chunk on entering it.
            first, count = row, 1
            if self.prefetch_rows:
                chunk = row // self.prefetch_rows
                first, count = chunk * self.prefetch_rows, self.prefetch_rows
                if chunk == self._chunk:
                    count = 0
                self._chunk = chunk
            if count:
                os.posix_fadvise(self._read_fd,
                                 self._offset + first * self.row_bytes,
                                 count * self.row_bytes,
                                 os.POSIX_FADV_WILLNEED)
        return features[row]

    def unpack(self, rows: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``(B, row_size)`` rows -> ``{name: (B, *shape)}``."""
        parts = torch.split(rows, self._sizes, dim=1)
        return {
            name: part.reshape(rows.shape[0], *shape)
            for (name, shape), part in zip(self.layout, parts)
        }

    def _map(self) -> np.ndarray:
        """The read-only map, switched to the memory copy once it exists."""
        if self._features is None or (not self._in_memory
                                      and self._memory_copy_ready()):
            self.close()
            self._in_memory = self._memory_copy_ready()
            path = self.memory_path if self._in_memory else osp.join(
                self.directory, 'features.npy')
            self._features = np.load(path, mmap_mode='r')
            self._offset = self._features.offset
            self._read_fd = os.open(path, os.O_RDONLY)
        return self._features

    # -- in-memory copy ----------------------------------------------------
    @property
    def memory_path(self) -> Optional[str]:
        """Path of the in-memory copy (one per store and key), or None."""
        if self.memory_dir is None:
            return None
        name = hashlib.sha256(
            (osp.abspath(self.directory) + self.key).encode()).hexdigest()
        return osp.join(self.memory_dir, f'molt-features-{name[:24]}.npy')

    def _memory_copy_ready(self) -> bool:
        return self._memory_path is not None and osp.isfile(
            self._memory_path)

    def in_memory(self) -> bool:
        """Whether reads come (or will come) from the in-memory copy."""
        return self._memory_copy_ready()

    def drop_page_cache(self) -> None:
        """Asks the kernel to forget the cached pages of ``features.npy``
        (written pages must have reached the disk), so that the next reads
        come from the disk: for measuring cold reads."""
        fd = os.open(osp.join(self.directory, 'features.npy'), os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)

    def copy_to_memory(self, progress: bool = True) -> bool:
        """Copies the complete store to :attr:`memory_path` (a memory file
        system such as ``/dev/shm``) if it fits, in large sequential reads;
        readers switch to it on their next read.

        Call it from one process per machine; the copy is reused while it
        exists and removed by :meth:`drop_memory_copy`.

        Returns:
            Whether the copy exists. False (with the reason in a warning)
            when the store is incomplete or does not fit.
        """
        if self._memory_copy_ready():
            return True
        source = osp.join(self.directory, 'features.npy')
        size = os.path.getsize(source)
        free = shutil.disk_usage(self.memory_dir).free
        if not self.is_complete() or size > 0.9 * free:
            reason = ('it is incomplete' if not self.is_complete() else
                      f'{size / 2**30:.1f} GiB do not fit in the '
                      f'{free / 2**30:.1f} GiB free in {self.memory_dir}')
            print_log(f'Feature cache {self.directory} stays on disk: '
                      f'{reason}.', logger='current', level=30)
            return False
        part = self.memory_path + '.part'
        with open(source, 'rb') as src, open(part, 'wb') as dst, tqdm(
                total=size, unit='B', unit_scale=True, disable=not progress,
                desc='feature cache -> memory') as bar:
            while chunk := src.read(COPY_CHUNK_BYTES):
                dst.write(chunk)
                bar.update(len(chunk))
        os.replace(part, self.memory_path)
        self.drop_page_cache()  # readers use the copy, not these pages
        print_log(f'Feature cache {self.directory} held in memory at '
                  f'{self.memory_path} ({size / 2**30:.2f} GiB).',
                  logger='current')
        return True

    def drop_memory_copy(self) -> None:
        """Removes the in-memory copy (readers that have it mapped keep
        reading until they close it)."""
        if self._memory_copy_ready():
            os.remove(self.memory_path)

    # -- writing -----------------------------------------------------------
    def write(self, keys: Sequence[str],
              features: Dict[str, torch.Tensor]) -> None:
        """Stores the features of a batch: the rows of :attr:`writer_rows`
        (all when None), each as one positioned write, then their flags.

        Args:
            keys: Media keys, one per batch element.
            features: ``{name: (B, *shape)}`` per layout entry.
        """
        indices = [self.rows[key] for key in keys]
        keep = [
            i for i, row in enumerate(indices)
            if self.writer_rows is None or row in self.writer_rows
        ]
        if not keep:
            return
        flat = torch.cat([
            features[name].detach().reshape(len(indices), -1)
            for name, _ in self.layout
        ], dim=1)[keep]
        rows = flat.float().cpu().numpy().astype(self.dtype)
        self._open_for_writing()
        for i, row in zip(keep, rows):
            os.pwrite(self._write_fd, row.tobytes(),
                      self._write_offset + indices[i] * self.row_bytes)
        for i in keep:
            os.pwrite(self._flags_fd, b'\x01', indices[i])

    def _open_for_writing(self) -> None:
        if self._write_fd is not None:
            return
        path = osp.join(self.directory, 'features.npy')
        self._write_offset = _data_offset(path)
        self._write_fd = os.open(path, os.O_WRONLY)
        rank, _ = get_dist_info()
        flags = osp.join(self.directory, 'written', f'rank{rank}.bin')
        self._flags_fd = os.open(flags, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(self._flags_fd).st_size < self.num_rows:
            os.ftruncate(self._flags_fd, self.num_rows)

    def _sync(self) -> None:
        """Makes this process's writes durable (and visible to processes on
        other machines of a shared file system)."""
        for fd in (self._write_fd, self._flags_fd):
            if fd is not None:
                os.fsync(fd)

    def close(self) -> None:
        """Closes the files this process opened."""
        for name in ('_write_fd', '_flags_fd', '_read_fd'):
            fd = getattr(self, name, None)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)
        self._features = None

    def __getstate__(self) -> dict:
        # Data-loader workers (spawned) reopen the files themselves.
        state = self.__dict__.copy()
        state.update(_features=None, _in_memory=False, _write_fd=None,
                     _flags_fd=None, _read_fd=None)
        return state
