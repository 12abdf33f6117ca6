"""Small synthetic datasets in the official on-disk layouts, for the quick
start and the tests (no downloads)."""
from .ave import make_ave
from .avqa import make_avqa
from .avs import make_avs_s4

__all__ = ['make_ave', 'make_avs_s4', 'make_avqa']
