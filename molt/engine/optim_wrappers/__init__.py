from .bf16 import BF16OptimWrapper, apply_amp

__all__ = ['BF16OptimWrapper', 'apply_amp']
