from .ave_metric import AVEAccuracy

__all__ = ['AVEAccuracy']
