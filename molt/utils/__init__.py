from .checkpoint import (CorruptCheckpointError, IncompatibleCheckpointError,
                         NotResumableError, load_from_local,
                         load_model_checkpoint)
from .config import add_runner_arguments, load_config
from .safe_load import (UnsafeCheckpointError, allow_unsafe_load,
                        safe_torch_load, unsafe_load_allowed)
from .setup_env import register_all_modules

__all__ = [
    'CorruptCheckpointError', 'IncompatibleCheckpointError',
    'NotResumableError', 'UnsafeCheckpointError', 'add_runner_arguments',
    'allow_unsafe_load', 'load_config', 'load_from_local',
    'load_model_checkpoint', 'register_all_modules', 'safe_torch_load',
    'unsafe_load_allowed'
]
