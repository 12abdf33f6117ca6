"""Loading frames and waveforms from disk, with named errors."""
import os
import os.path as osp
import re

import mmcv
import numpy as np
import soundfile
import torch
import torchaudio

from molt.registry import TRANSFORMS
from .base import MediaTransform

__all__ = ['LoadFrames', 'LoadAudio']


@TRANSFORMS.register_module()
class LoadFrames(MediaTransform):
    """Loads one frame per segment from a folder of 1 fps frames.

    Frame ``s`` (second ``s``) is ``frame_dir/frame_tmpl.format(s)``. The
    folder must hold a gap-free run starting at second 0. A video shorter
    than the requested seconds repeats its last frame (molt's documented
    short-video policy); the number of repeats is recorded as
    ``num_repeated_frames``.

    Required keys: ``frame_dir``, ``segment_seconds``.
    Added keys: ``frames`` (list of ``(H, W, 3)`` uint8 RGB arrays),
    ``num_repeated_frames``.

    Args:
        frame_tmpl: File name pattern of the frames.
    """

    def __init__(self, frame_tmpl: str = '{:02d}.jpg'):
        self.frame_tmpl = frame_tmpl
        pattern = re.escape(frame_tmpl).replace(r'\{:02d\}', r'(\d+)')
        self._pattern = re.compile(f'^{pattern}$')

    def _available_seconds(self, frame_dir: str) -> int:
        """Number of frames, which must be seconds ``0..n-1`` without gaps."""
        if not osp.isdir(frame_dir):
            raise FileNotFoundError(f'Frame folder not found: {frame_dir}')
        matches = map(self._pattern.match, os.listdir(frame_dir))
        seconds = sorted(int(m.group(1)) for m in matches if m)
        if seconds != list(range(len(seconds))):
            gap = next(i for i, s in enumerate(seconds) if s != i)
            missing = osp.join(frame_dir, self.frame_tmpl.format(gap))
            raise FileNotFoundError(
                f'Frame not found: {missing} (the folder has frames up to '
                f'second {seconds[-1]}, so this is a gap, not a short video)')
        return len(seconds)

    def transform(self, results: dict) -> dict:
        frame_dir = results['frame_dir']
        available = self._available_seconds(frame_dir)
        if available == 0:
            raise FileNotFoundError(
                'Frame not found: ' +
                osp.join(frame_dir, self.frame_tmpl.format(0)))
        frames, repeated = [], 0
        for second in results['segment_seconds']:
            if second >= available:
                second, repeated = available - 1, repeated + 1
            path = osp.join(frame_dir, self.frame_tmpl.format(second))
            frame = mmcv.imread(path, channel_order='rgb')
            if frame is None:
                raise OSError(f'Could not decode frame: {path}')
            frames.append(frame)
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
        path = results['audio_path']
        if not osp.isfile(path):
            raise FileNotFoundError(f'Audio file not found: {path}')
        try:
            wave, rate = soundfile.read(path, dtype='float32', always_2d=True)
        except RuntimeError as error:
            raise OSError(f'Could not decode audio: {path} ({error})') from None
        if wave.shape[0] == 0:
            raise ValueError(f'Audio file is empty: {path}')
        wave = wave.mean(axis=1)
        if rate != self.sample_rate:
            wave = torchaudio.functional.resample(
                torch.from_numpy(wave), rate, self.sample_rate).numpy()
        results['waveform'] = np.ascontiguousarray(wave, dtype=np.float32)
        results['sample_rate'] = self.sample_rate
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(sample_rate={self.sample_rate})'
