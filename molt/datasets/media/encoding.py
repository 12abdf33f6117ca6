"""Encoding a video file (H.264 + AAC) from 1 fps frames and audio: the
reverse of the conversion, to try the inferencer on a dataset's own sample
(e.g. one of the synthetic demo set) and compare with ``tools/test.py``
(``tools/misc/converted_to_video.py``).
"""
import os
import os.path as osp
from typing import List, Sequence

import av
import numpy as np

from .converted_files import count_frames, read_rgb, read_wav

__all__ = ['write_video', 'converted_to_video']


def write_video(path: str,
                frames: Sequence[np.ndarray],
                waveform: np.ndarray,
                sample_rate: int,
                fps: int = 4) -> str:
    """Writes an H.264 + AAC video (mp4, mkv, ... by the file ending)
    showing ``frames[i]`` during second ``i``.

    Args:
        path: Output file.
        frames: One ``(h, w, 3)`` uint8 RGB frame per second, all of one
            size (an odd side is cropped by one pixel for H.264).
        waveform: Mono float audio in ``[-1, 1]``, ``(samples,)``.
        sample_rate: Its rate in Hz.
        fps: Frame rate of the file; each second repeats its frame.
    """
    height, width = (s - s % 2 for s in frames[0].shape[:2])
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with av.open(path, 'w') as container:
        video = container.add_stream('libx264', rate=fps)
        video.width, video.height, video.pix_fmt = width, height, 'yuv420p'
        audio = container.add_stream('aac', rate=sample_rate)
        audio.layout = 'mono'
        for index in range(len(frames) * fps):
            image = np.ascontiguousarray(
                frames[index // fps][:height, :width])
            frame = av.VideoFrame.from_ndarray(image, format='rgb24')
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode())
        samples = np.asarray(waveform, np.float32).reshape(1, -1)
        chunk = 1024
        for start in range(0, samples.shape[1], chunk):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[:, start:start + chunk]),
                format='fltp', layout='mono')
            frame.sample_rate, frame.pts = sample_rate, start
            container.mux(audio.encode(frame))
        container.mux(audio.encode())
    return path


def converted_to_video(frame_dir: str,
                       wav_path: str,
                       path: str,
                       fps: int = 4,
                       frame_tmpl: str = '{:02d}.jpg') -> str:
    """Writes the video of a converted sample (``frame_dir/00.jpg ...``
    and its wav) to ``path``; see :func:`write_video`."""
    frames: List[np.ndarray] = [
        read_rgb(osp.join(frame_dir, frame_tmpl.format(second)))
        for second in range(count_frames(frame_dir, frame_tmpl))
    ]
    wave, rate = read_wav(wav_path)
    return write_video(path, frames, wave.mean(axis=1), rate, fps)
