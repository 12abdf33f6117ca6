from .tor import TokenOrthogonalityLoss

__all__ = ['TokenOrthogonalityLoss']
