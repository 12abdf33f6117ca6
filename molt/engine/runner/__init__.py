from .molt_runner import MoltRunner, latest_checkpoint

__all__ = ['MoltRunner', 'latest_checkpoint']
