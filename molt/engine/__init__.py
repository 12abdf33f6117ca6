from .hooks import *  # noqa: F401,F403
from .optim_wrappers import *  # noqa: F401,F403
from .loops import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
