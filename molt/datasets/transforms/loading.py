"""Loading frames and waveforms from disk, with errors naming the file."""
import os.path as osp

import numpy as np
import torch
import torchaudio

from molt.engine.feature_cache import MediaTransform
from molt.registry import TRANSFORMS
from ..media.converted_files import count_frames, read_rgb, read_wav

__all__ = ['LoadFrames', 'LoadAudio']


@TRANSFORMS.register_module()
class LoadFrames(MediaTransform):
    """Loads one frame per segment from a folder of 1 fps frames.

    Frame ``s`` (second ``s``) is ``frame_dir/frame_tmpl.format(s)``. The
    folder must hold a gap-free run starting at second 0. A video shorter
    than the requested seconds repeats its last frame (the peers' policy;
    the dataset reports such samples at start-up); the number of repeats
    is recorded as ``num_repeated_frames``. A frame that cannot be decoded
    (empty, truncated) raises an error naming it.

    Required keys: ``frame_dir``, ``segment_seconds``.
    Added keys: ``frames`` (list of ``(H, W, 3)`` uint8 RGB arrays),
    ``num_repeated_frames``.

    Args:
        frame_tmpl: File name pattern of the frames.
    """

    def __init__(self, frame_tmpl: str = '{:02d}.jpg'):
        self.frame_tmpl = frame_tmpl

    def transform(self, results: dict) -> dict:
        frame_dir = results['frame_dir']
        available = count_frames(frame_dir, self.frame_tmpl)
        if available == 0:
            raise FileNotFoundError(
                'Frame not found: ' +
                osp.join(frame_dir, self.frame_tmpl.format(0)))
        frames, repeated = [], 0
        for second in results['segment_seconds']:
            if second >= available:
                second, repeated = available - 1, repeated + 1
            frames.append(
                read_rgb(osp.join(frame_dir, self.frame_tmpl.format(second))))
        results['frames'] = frames
        results['num_repeated_frames'] = repeated
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(frame_tmpl={self.frame_tmpl!r})'


@TRANSFORMS.register_module()
class LoadAudio(MediaTransform):
    """Loads a wav (soundfile) as a mono float32 waveform at
    ``sample_rate``, resampling with torchaudio when the file differs.

    Required keys: ``audio_path``.
    Added keys: ``waveform`` (``(samples,)`` float32), ``sample_rate``.

    Args:
        sample_rate: Rate the model expects (Hz).
    """

    def __init__(self, sample_rate: int = 32000):
        self.sample_rate = sample_rate

    def transform(self, results: dict) -> dict:
        wave, rate = read_wav(results['audio_path'])
        wave = wave.mean(axis=1)
        if rate != self.sample_rate:
            wave = torchaudio.functional.resample(
                torch.from_numpy(wave), rate, self.sample_rate).numpy()
        results['waveform'] = np.ascontiguousarray(wave, dtype=np.float32)
        results['sample_rate'] = self.sample_rate
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(sample_rate={self.sample_rate})'
