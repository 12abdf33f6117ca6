"""mmengine's message hub in a form ``torch.load(weights_only=True)`` reads.

mmengine stores each logged scalar as a ``HistoryBuffer`` object whose
pickle rebuilds bound methods through ``builtins.getattr``; an allow-list
that admits ``getattr`` admits any method of any object, so no such
checkpoint can be read safely. molt's checkpoints store the same histories
as plain arrays (:func:`plain_message_hub`) and rebuild the buffers when a
checkpoint is read (:func:`restore_message_hub`).
"""
from collections import OrderedDict
from typing import Mapping

from mmengine.logging import HistoryBuffer

__all__ = ['plain_message_hub', 'restore_message_hub']


def plain_message_hub(state: Mapping) -> dict:
    """``MessageHub.state_dict()`` with each ``HistoryBuffer`` replaced by
    ``{'log_history', 'count_history', 'max_length'}`` (numpy arrays and an
    int)."""
    state = dict(state)
    state['log_scalars'] = OrderedDict(
        (key, dict(log_history=buffer.data[0], count_history=buffer.data[1],
                   max_length=buffer.max_length))
        for key, buffer in state.get('log_scalars', {}).items())
    return state


def restore_message_hub(state: Mapping) -> dict:
    """The inverse of :func:`plain_message_hub`, for
    ``MessageHub.load_state_dict``; buffers already rebuilt (a checkpoint
    read with ``--unsafe-load``) pass through."""
    state = dict(state)
    state['log_scalars'] = OrderedDict(
        (key, HistoryBuffer(**value) if isinstance(value, Mapping) else value)
        for key, value in state.get('log_scalars', {}).items())
    return state
