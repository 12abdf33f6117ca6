"""Cutting a waveform into per-segment clips for the audio backbone."""
import math

import numpy as np

from molt.engine.feature_cache import MediaTransform
from molt.registry import TRANSFORMS

__all__ = ['SliceAudioSegments']


@TRANSFORMS.register_module()
class SliceAudioSegments(MediaTransform):
    """Cuts ``segment_seconds`` of audio per segment and tiles it to the
    audio backbone's clip length (the peers' protocol: 1 s per segment,
    tiled to 10 s for HTS-AT on AVE/AVQA, 5 s on AVS; 1 s for the shared
    Kaldi-fbank setting, i.e. no tiling).

    Segment ``s`` is second ``s`` of the waveform. When the waveform ends
    before that second does (a short video), the segment repeats the last
    whole second of the waveform, like the frames do; a waveform shorter
    than one segment is tiled to one.

    Required keys: ``waveform``, ``sample_rate``, ``segment_seconds``.
    Added keys: ``audio`` ``(T, clip_samples)`` float32,
    ``num_repeated_audio``.

    Args:
        segment_length: Seconds of audio per segment.
        clip_seconds: Length of the clip fed to the audio backbone.
    """

    def __init__(self, segment_length: float = 1.0,
                 clip_seconds: float = 10.0):
        if clip_seconds < segment_length:
            raise ValueError(f'clip_seconds={clip_seconds} must be at least '
                             f'segment_length={segment_length}.')
        self.segment_length = segment_length
        self.clip_seconds = clip_seconds

    def transform(self, results: dict) -> dict:
        wave, rate = results['waveform'], results['sample_rate']
        seg = int(round(self.segment_length * rate))
        clip = int(round(self.clip_seconds * rate))
        if len(wave) < seg:
            wave = np.tile(wave, math.ceil(seg / len(wave)))[:seg]
        clips, repeated = [], 0
        for second in results['segment_seconds']:
            start = int(round(second * rate))
            if start + seg > len(wave):
                start, repeated = len(wave) - seg, repeated + 1
            piece = wave[start:start + seg]
            clips.append(np.tile(piece, math.ceil(clip / seg))[:clip])
        results['audio'] = np.stack(clips).astype(np.float32)
        results['num_repeated_audio'] = repeated
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(segment_length='
                f'{self.segment_length}, clip_seconds={self.clip_seconds})')
