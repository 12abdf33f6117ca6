"""molt: parameter- and memory-efficient audio-visual learning."""
from .version import __version__
from .utils import checkpoint as _checkpoint  # noqa: F401  registers the torch>=2.6 loader

__all__ = ['__version__']
