from .bf16 import BF16OptimWrapper

__all__ = ['BF16OptimWrapper']
