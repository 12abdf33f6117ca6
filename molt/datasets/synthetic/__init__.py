"""Small synthetic datasets in the official on-disk layouts, for the quick
start and the tests (no downloads)."""
from .ave import make_ave

__all__ = ['make_ave']
from .avs import make_avs_s4  # noqa: E402

__all__ += ['make_avs_s4']
from .avqa import make_avqa  # noqa: E402

__all__ += ['make_avqa']
