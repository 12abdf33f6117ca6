"""Small synthetic datasets in the official on-disk layouts, for the quick
start and the tests (no downloads)."""
from .ave import make_ave

__all__ = ['make_ave']
