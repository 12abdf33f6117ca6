"""Reading converted media files (frames, masks, wavs) from disk.

Every failure names the file and says what to do: a zero-byte, truncated
or foreign file raises :class:`MediaFileError` instead of a bare decoder
assertion. Images are decoded completely with PIL, which refuses a
truncated JPEG or PNG (OpenCV would fill the missing part with grey).
"""
import os
import os.path as osp
import re
from typing import Tuple

import numpy as np
import soundfile
from PIL import Image

__all__ = [
    'MediaFileError', 'read_rgb', 'read_mask', 'image_size', 'read_wav',
    'wav_seconds', 'count_frames'
]

#: What to do about a damaged file, appended to every message.
REMEDY = ('re-create it: delete the video\'s frames and wav and re-run the '
          'dataset converter, or restore the file from the release')


class MediaFileError(OSError):
    """A media file exists but cannot be decoded; the message names it."""


def _require_content(path: str, what: str) -> None:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    if osp.getsize(path) == 0:
        raise MediaFileError(f'{what} {path} is empty (0 bytes); {REMEDY}.')


def _load_image(path: str, what: str) -> Image.Image:
    """Opens and fully decodes an image."""
    _require_content(path, what)
    try:
        with Image.open(path) as image:
            image.load()
            return image
    except (OSError, SyntaxError, ValueError) as error:
        raise MediaFileError(
            f'{what} {path} cannot be decoded ({error}): the file is '
            f'truncated or not an image; {REMEDY}.') from None


def image_size(path: str, what: str = 'Frame') -> Tuple[int, int]:
    """``(height, width)`` of an image, read from its header only."""
    _require_content(path, what)
    try:
        with Image.open(path) as image:
            return image.height, image.width
    except (OSError, SyntaxError, ValueError) as error:
        raise MediaFileError(
            f'{what} {path} cannot be read ({error}): the file is not an '
            f'image; {REMEDY}.') from None


def read_rgb(path: str, what: str = 'Frame') -> np.ndarray:
    """Reads an image as ``(H, W, 3)`` uint8 RGB (like the peers'
    ``Image.open(path).convert('RGB')``)."""
    return np.asarray(_load_image(path, what).convert('RGB'))


def _uniform(values: np.ndarray) -> bool:
    return values.min() == values.max()


def read_mask(path: str) -> np.ndarray:
    """Reads a segmentation mask as ``(H, W)`` uint8 in ``{0, 1}``.

    The official AVSBench loader reads a mask with PIL's
    ``Image.open(path).convert('1')``: its grey value (the luminance of a
    colour or palette mask, alpha ignored) thresholded at 128. molt reads
    the same grey value, with two additions for masks that reading would
    empty:

    * **Threshold**: foreground is grey ``>= 128`` when the mask reaches
      128 (the release's 0/255 masks, soft edges), else ``> 0`` (0/1 masks,
      dark palette colours), so a mask that marks something never reads as
      empty.
    * **Alpha**: when the grey value is the same everywhere (the colour
      says nothing) but the alpha channel varies, the alpha channel is the
      mask (e.g. white paint whose shape is only in its transparency);
      otherwise alpha is ignored, as in the official loader.

    A palette mask is read through its palette (its colours, not its
    indices), like ``convert('1')``.

    Raises:
        FileNotFoundError: No file at ``path``.
        MediaFileError: The file is empty, truncated or not an image.
    """
    image = _load_image(path, 'Mask')
    if image.mode == 'P':
        image = image.convert(
            'RGBA' if 'transparency' in image.info else 'RGB')
    grey = np.asarray(image.convert('L'))
    value = grey
    if 'A' in image.getbands():
        alpha = np.asarray(image.getchannel('A'))
        if _uniform(grey) and not _uniform(alpha):
            value = alpha
    threshold = 128 if value.max() >= 128 else 1
    return (value >= threshold).astype(np.uint8)


def read_wav(path: str) -> Tuple[np.ndarray, int]:
    """Reads a sound file as ``(samples, channels)`` float32 and its rate.

    Raises:
        FileNotFoundError: No file at ``path``.
        MediaFileError: The file is empty, has no samples or cannot be
            decoded.
    """
    _require_content(path, 'Audio file')
    try:
        wave, rate = soundfile.read(path, dtype='float32', always_2d=True)
    except (RuntimeError, soundfile.SoundFileError) as error:
        raise MediaFileError(f'Audio file {path} cannot be decoded ({error}); '
                             f'{REMEDY}.') from None
    if wave.shape[0] == 0:
        raise MediaFileError(f'Audio file {path} holds no samples; {REMEDY}.')
    return wave, rate


def wav_seconds(path: str) -> float:
    """Length of a sound file in seconds, from its header.

    Raises:
        FileNotFoundError: No file at ``path``.
        MediaFileError: The file is empty or its header cannot be read.
    """
    _require_content(path, 'Audio file')
    try:
        info = soundfile.info(path)
    except (RuntimeError, soundfile.SoundFileError) as error:
        raise MediaFileError(f'Audio file {path} cannot be read ({error}); '
                             f'{REMEDY}.') from None
    return info.frames / info.samplerate


def count_frames(frame_dir: str, frame_tmpl: str = '{:02d}.jpg') -> int:
    """Number of 1 fps frames in ``frame_dir``: files named
    ``frame_tmpl.format(s)`` for seconds ``s = 0 .. n-1``, without gaps.

    Raises:
        FileNotFoundError: The folder is missing, or a frame is missing
            before the last one (a gap, not a short video); the message
            names the missing frame.
    """
    if not osp.isdir(frame_dir):
        raise FileNotFoundError(f'Frame folder not found: {frame_dir}')
    pattern = re.compile(
        '^' + re.escape(frame_tmpl).replace(r'\{:02d\}', r'(\d+)') + '$')
    matches = map(pattern.match, os.listdir(frame_dir))
    seconds = sorted(int(m.group(1)) for m in matches if m)
    if seconds != list(range(len(seconds))):
        gap = next(i for i, s in enumerate(seconds) if s != i)
        raise FileNotFoundError(
            f'Frame not found: {osp.join(frame_dir, frame_tmpl.format(gap))} '
            f'(the folder has frames up to second {seconds[-1]}, so this is '
            'a gap, not a short video)')
    return len(seconds)
