# mmseg's decode heads and losses live in the parent registry; importing
# them here lets a molt-scoped config name any of them.
import mmseg.models  # noqa: F401

from .backbones import *  # noqa: F401,F403
