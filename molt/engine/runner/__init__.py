from .molt_runner import MoltRunner
from .work_dir_checkpoints import (NothingToResumeError, latest_checkpoint,
                                   set_aside_earlier_run)

__all__ = ['MoltRunner', 'NothingToResumeError', 'latest_checkpoint',
           'set_aside_earlier_run']
