"""Reading molt checkpoints safely, and loading them into a model.

**Trust.** A checkpoint is data, not code: every local file is read with
``torch.load(weights_only=True)`` and the allow-list of
:mod:`molt.utils.safe_load`, through :func:`load_from_local`, which molt
registers as mmengine's :class:`CheckpointLoader` for local paths (so
``load_from``, ``--resume``, ``init_cfg=dict(type='Pretrained')`` and
``tools/test.py`` all use it). A file that needs a full unpickle is
refused unless the user passed ``--unsafe-load``
(:func:`~molt.utils.safe_load.allow_unsafe_load`).

**Corrupt files** (empty, truncated, not a checkpoint at all) fail with a
:class:`CorruptCheckpointError` that names the file and what is wrong with
it, before torch sees them.

**Adapter-only checkpoints.** A training checkpoint stores what training
changes, not the frozen backbones (see :mod:`molt.utils.frozen_state`)::

    meta              mmengine's meta (config text, epoch, iter, seed,
                      dataset_meta) + checkpoint_format
    state_dict        the model's state without the refillable backbones
    frozen            {module name: {'fingerprint', 'pretrained'}}
    message_hub       mmengine's message hub (best score, kept files, ...)
    optimizer, param_schedulers, resume_state
                      only in files a run can continue from (resume_state:
                      random-number states and the position in the data,
                      see molt.engine.loops)

:func:`load_model_checkpoint` is the one way to put any checkpoint (adapter
only, or a full state dict from an older molt or from elsewhere) into a
model; the runner, ``tools/test.py``, ``load_from`` and the inference and
analysis tools all go through it.
"""
import logging
import os.path as osp
import pickle
import re
import zipfile
from collections import OrderedDict
from typing import Callable, Dict, List, Mapping, Optional, Union

from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader, weights_to_cpu
from torch import Tensor, nn

from .frozen_state import refill_frozen_modules, split_model_state
from .safe_load import UnsafeCheckpointError, safe_torch_load

__all__ = [
    'load_from_local',
    'check_checkpoint_file', 'read_checkpoint', 'model_checkpoint_state',
    'load_state_into_model', 'load_model_checkpoint', 'check_resumable',
    'UnsafeCheckpointError', 'CorruptCheckpointError',
    'IncompatibleCheckpointError', 'NotResumableError', 'CHECKPOINT_FORMAT'
]

CHECKPOINT_FORMAT = 'molt-adapter-only-v1'

_SHOWN_KEYS = 20


class CorruptCheckpointError(RuntimeError):
    """A file is not a readable checkpoint (empty, truncated, not one)."""


class IncompatibleCheckpointError(RuntimeError):
    """A checkpoint's keys, shapes or frozen weights do not fit the model."""


class NotResumableError(RuntimeError):
    """A checkpoint holds no optimiser and loop state to continue from."""


# -- reading files ---------------------------------------------------------
def _corrupt(path: str, problem: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f'{path} is not a readable checkpoint: {problem}. The file may have '
        'been cut short by an interrupted copy, download or save. Use another '
        'checkpoint (e.g. the epoch_N.pth before it); molt writes its own '
        'checkpoints under a temporary name first, so `last_checkpoint` '
        'never names a partial file.')


def check_checkpoint_file(path: str) -> None:
    """Checks that ``path`` is a complete file in one of torch's formats,
    without unpickling anything.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        CorruptCheckpointError: It is empty, a truncated or damaged zip
            archive (torch's format since 1.6), or neither a zip archive nor
            a pickle (torch's legacy format).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint file not found: {path}')
    size = osp.getsize(path)
    if size == 0:
        raise _corrupt(path, 'the file is empty (0 bytes)')
    with open(path, 'rb') as f:
        head = f.read(4)
    if head.startswith(b'PK'):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            raise _corrupt(
                path, f'its zip archive is damaged or truncated ({size} bytes; '
                f'{error})') from error
        if not any(name.endswith('data.pkl') for name in names):
            raise _corrupt(
                path, 'it is a zip archive but not a PyTorch checkpoint (no '
                'data.pkl inside)')
    elif not head.startswith(b'\x80'):
        raise _corrupt(
            path, 'it is neither a PyTorch zip archive nor a pickle (starts '
            f'with bytes {head.hex(" ")}; {size} bytes)')


def _is_damage(error: BaseException) -> bool:
    """Whether a ``torch.load`` error means a damaged file (rather than,
    e.g., a missing CUDA device)."""
    return isinstance(error, (EOFError, zipfile.BadZipFile,
                              pickle.UnpicklingError)) or (
        isinstance(error, RuntimeError)
        and 'PytorchStreamReader' in str(error))


def load_from_local(filename: str,
                    map_location: Optional[Union[str, Callable]] = None):
    """Loads a local checkpoint; replaces mmengine's loader for local paths.

    Args:
        filename: Path of the checkpoint file.
        map_location: Same as :func:`torch.load`.

    Returns:
        The checkpoint (usually a dict).

    Raises:
        FileNotFoundError: ``filename`` is not a file.
        CorruptCheckpointError: The file is damaged (see
            :func:`check_checkpoint_file`).
        UnsafeCheckpointError: The file holds objects that only a full
            unpickle builds, and ``--unsafe-load`` was not given (see
            :mod:`molt.utils.safe_load`).
    """
    filename = osp.expanduser(filename)
    check_checkpoint_file(filename)
    try:
        return safe_torch_load(filename, map_location=map_location)
    except UnsafeCheckpointError:
        raise
    except Exception as error:  # noqa: B902 (torch raises many kinds)
        if _is_damage(error):
            raise _corrupt(filename, f'{type(error).__name__}: {error}') \
                from error
        raise


def read_checkpoint(path: str,
                    map_location: Optional[Union[str, Callable]] = 'cpu'
                    ) -> dict:
    """Reads a checkpoint (any scheme mmengine knows; local files through
    :func:`load_from_local`).

    Args:
        path: The file.
        map_location: Same as :func:`torch.load`.
    """
    return CheckpointLoader.load_checkpoint(path, map_location=map_location)


# -- the model's part --------------------------------------------------------
def model_checkpoint_state(model: nn.Module) -> dict:
    """The model's part of an adapter-only checkpoint: ``{'state_dict':
    ..., 'frozen': ...}`` on the CPU (see :mod:`molt.utils.frozen_state`)."""
    state, frozen = split_model_state(model)
    return dict(state_dict=weights_to_cpu(state), frozen=frozen)


def _state_dict_of(checkpoint: Mapping, source: str) -> Dict[str, Tensor]:
    if not isinstance(checkpoint, Mapping):
        raise IncompatibleCheckpointError(
            f'{source} holds a {type(checkpoint).__name__}, not a checkpoint '
            '(a dict with a state_dict, or a state dict).')
    state = checkpoint.get('state_dict', checkpoint)
    if not all(isinstance(v, Tensor) for v in state.values()):
        raise IncompatibleCheckpointError(
            f'{source} has no state_dict entry and is not a state dict itself '
            f'(its keys: {", ".join(map(str, list(checkpoint)[:10]))}).')
    if state and all(key.startswith('module.') for key in state):
        # Saved from a DataParallel/DDP wrapper.
        state = OrderedDict(
            (re.sub(r'^module\.', '', k), v) for k, v in state.items())
    return state


def _listed(title: str, keys: List[str]) -> str:
    shown = ', '.join(keys[:_SHOWN_KEYS])
    more = (f' ... (+{len(keys) - _SHOWN_KEYS} more)'
            if len(keys) > _SHOWN_KEYS else '')
    return f'{len(keys)} {title}: {shown}{more}'


def _key_problems(expected: Mapping[str, Tensor],
                  given: Mapping[str, Tensor]) -> List[str]:
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    mismatched = sorted(
        f'{key} (checkpoint {tuple(value.shape)}, model '
        f'{tuple(expected[key].shape)})' for key, value in given.items()
        if key in expected and value.shape != expected[key].shape)
    return [
        _listed(title, keys)
        for title, keys in (('missing keys', missing), ('unexpected keys',
                                                         unexpected),
                            ('mis-shaped keys', mismatched)) if keys
    ]


def load_state_into_model(model: nn.Module,
                          checkpoint: Mapping,
                          source: str,
                          strict: bool = True) -> None:
    """Puts an already read checkpoint into ``model``; see
    :func:`load_model_checkpoint` (same contract, minus the reading)."""
    state = _state_dict_of(checkpoint, source)
    frozen = checkpoint.get('frozen') or {}
    problems = refill_frozen_modules(model, frozen, source)
    left_out = tuple(f'{name}.' for name in frozen)
    expected = {
        key: value
        for key, value in model.state_dict().items()
        if not key.startswith(left_out)
    }
    problems += _key_problems(expected, state)
    if problems and strict:
        raise IncompatibleCheckpointError(
            f'{source} does not fit the model ({type(model).__name__}): ' +
            '; '.join(problems) + '. Was it trained with another config '
            '(task, adapter scheme, sizes)? Use the config it was trained '
            'with (its text is in the checkpoint, meta["cfg"]), or pass '
            '--non-strict (load_strict=False) to load what fits.')
    if problems:
        print_log(
            f'NOT STRICT: {source} does not fit the model; loading only the '
            'keys that fit, the rest of the model keeps its current weights: '
            + '; '.join(problems),
            logger='current', level=logging.WARNING)
    fitting = {
        key: value
        for key, value in state.items()
        if key in expected and value.shape == expected[key].shape
    }
    model.load_state_dict(fitting, strict=False)


def load_model_checkpoint(model: nn.Module,
                          path: str,
                          strict: bool = True,
                          map_location: Optional[Union[str,
                                                       Callable]] = 'cpu'
                          ) -> dict:
    """Loads a checkpoint into a built model: the one entry point for every
    consumer (runner, ``tools/test.py``, ``load_from``, inference and
    analysis tools).

    Contract:

    * **Adapter-only** checkpoints (molt's own, ``checkpoint['frozen']``
      present): every frozen module they leave out is refilled from its own
      ``pretrained`` file (its ``init_weights()``, skipped when it already
      holds those weights), and its fingerprint must equal the recorded one;
      the stored keys must then fit the rest of the model exactly.
    * **Full** checkpoints (an older molt, or a plain state dict, with or
      without a ``'state_dict'`` container and a ``module.`` prefix): every
      key of the model must be present, with the right shape.
    * ``strict=True`` refuses any misfit with an
      :class:`IncompatibleCheckpointError` listing the missing, unexpected
      and mis-shaped keys and the fingerprints of mismatched backbones;
      ``strict=False`` loads what fits and logs the rest as a warning.
    * The model must be built from the config the checkpoint was trained
      with (sizes filled in, e.g. AVQA's vocabulary sizes); it may live on
      any device.

    Args:
        model: The model (e.g. an :class:`~molt.models.AVModel`), built.
        path: The checkpoint.
        strict: See above.
        map_location: Same as :func:`torch.load`.

    Returns:
        The checkpoint dict (``meta``, ...), for callers that need more.

    Raises:
        FileNotFoundError, CorruptCheckpointError, UnsafeCheckpointError:
            The file cannot be read.
        IncompatibleCheckpointError: It does not fit (``strict=True``).
    """
    checkpoint = read_checkpoint(path, map_location=map_location)
    load_state_into_model(model, checkpoint, path, strict=strict)
    return checkpoint


# -- resuming ----------------------------------------------------------------
def check_resumable(checkpoint: Mapping, source: str) -> bool:
    """Refuses a checkpoint a run cannot continue from.

    Returns:
        True when the checkpoint also holds the random-number states and
        the position in the data (molt's own), i.e. the resumed run is
        exact; False for an older checkpoint with optimiser state only.

    Raises:
        NotResumableError: It has no optimiser state: a best or
            weights-only file.
    """
    if isinstance(checkpoint, Mapping) and 'optimizer' in checkpoint:
        return 'resume_state' in checkpoint
    raise NotResumableError(
        f'{source} holds model weights only (a best_*.pth or another '
        'weights-only file): no optimiser, learning-rate schedule or position '
        'in the data, so a run cannot continue from it. To continue a run, '
        'use `--resume` alone (the latest checkpoint of the work dir) or '
        '`--resume WORK_DIR/epoch_N.pth`; to start a new run from these '
        'weights, use `--cfg-options load_from=PATH`; to evaluate it, '
        'tools/test.py CONFIG PATH.')


CheckpointLoader.register_scheme(prefixes='', loader=load_from_local,
                                 force=True)
