# mmseg's decode heads and losses live in the parent registry; importing
# them here lets a molt-scoped config name any of them.
import mmseg.models  # noqa: F401

from .adapters import *  # noqa: F401,F403
from .av_model import AVModel
from .backbones import *  # noqa: F401,F403
from .data_preprocessor import AVDataPreprocessor
from .fusions import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403

__all__ = ['AVModel', 'AVDataPreprocessor']
