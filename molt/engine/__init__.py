from .optim_wrappers import *  # noqa: F401,F403
