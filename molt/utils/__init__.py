from .checkpoint import (CorruptCheckpointError, IncompatibleCheckpointError,
                         NotResumableError, UntrustedCheckpointError,
                         is_trusted, load_from_local, load_model_checkpoint,
                         trust_checkpoint, trust_directory)
from .config import add_runner_arguments, load_config
from .setup_env import register_all_modules

__all__ = [
    'UntrustedCheckpointError', 'is_trusted', 'load_from_local',
    'trust_checkpoint', 'trust_directory', 'register_all_modules',
    'load_config', 'add_runner_arguments', 'load_model_checkpoint',
    'CorruptCheckpointError', 'IncompatibleCheckpointError',
    'NotResumableError'
]
