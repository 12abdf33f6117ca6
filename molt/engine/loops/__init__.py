from .resumable_sampler import (ResumableSampler, SampleIndex,
                                enable_sample_seeding)
from .resumable_train_loop import ResumableEpochBasedTrainLoop
from .stop_signals import IgnoreStopSignals, TrainingInterrupted

__all__ = [
    'ResumableEpochBasedTrainLoop', 'ResumableSampler', 'SampleIndex',
    'enable_sample_seeding', 'IgnoreStopSignals', 'TrainingInterrupted'
]
