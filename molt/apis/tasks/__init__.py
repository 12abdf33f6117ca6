"""Inference tasks, chosen by the config's test dataset."""
from mmengine.dataset import BaseDataset

from .ave import AVETask
from .avqa import AVQATask
from .avs import AVSTask
from .base import InferenceTask, Prediction, SampleSpec, VideoPlan
from .windowed import WindowedTask

__all__ = [
    'AVETask', 'AVQATask', 'AVSTask', 'InferenceTask', 'Prediction',
    'SampleSpec', 'VideoPlan', 'WindowedTask', 'TASKS', 'task_class'
]

TASKS = (AVETask, AVSTask, AVQATask)


def task_class(dataset: BaseDataset) -> type:
    """The task whose dataset type ``dataset`` is an instance of.

    Raises:
        ValueError: No task reads this kind of dataset.
    """
    for task in TASKS:
        if isinstance(dataset, task.dataset_type):
            return task
    known = ', '.join(t.dataset_type.__name__ for t in TASKS)
    raise ValueError(
        f'The config tests on a {type(dataset).__name__}; the inferencer '
        f'knows the tasks of {known}.')
