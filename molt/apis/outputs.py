"""Writing a video's result and pictures to a folder.

Per video, in ``OUT_DIR/<video name>/``::

    result.json               the result (every task)
    timeline.png              AVE
    overlays/NN.png           AVS: frame of second NN with its mask
    overlays.gif              AVS: the overlays, one per second of video
    masks/NN.png              AVS: binary mask, the video's resolution
    probabilities.npz         AVS: ``probability`` (T, H, W) float32
    frames.png                AVQA: the sampled frames, question, answers

AVS masks are arrays, so ``result.json`` names their files instead.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
from PIL import Image

from .tasks.base import Pictures

__all__ = ['write_outputs', 'json_ready', 'folder_names', 'GIF_FRAME_MS']

#: Display time of one frame of an animated GIF (two per second).
GIF_FRAME_MS = 500


def folder_names(paths: Sequence[str]) -> List[str]:
    """One output folder name per video: the file name without its
    extension, with ``-2``, ``-3``, ... for repeats (``a/x.mp4`` and
    ``b/x.mkv`` become ``x`` and ``x-2``)."""
    names, used = [], set()
    for path in paths:
        stem = osp.splitext(osp.basename(osp.normpath(path)))[0] or 'video'
        name, index = stem, 1
        while name in used:
            index += 1
            name = f'{stem}-{index}'
        used.add(name)
        names.append(name)
    return names


def _json_frame(entry: dict) -> dict:
    """An AVS frame entry with its mask file instead of its arrays."""
    out = {
        key: value
        for key, value in entry.items() if not isinstance(value, np.ndarray)
    }
    out['mask_file'] = f'masks/{entry["second"]:02d}.png'
    return out


def json_ready(result: dict) -> dict:
    """The result without numpy arrays (AVS ``mask``/``probability``
    become the names of the files :func:`write_outputs` writes)."""
    out = dict(result)
    if out.get('task') == 'avs' and 'frames' in out:
        out['frames'] = [_json_frame(entry) for entry in out['frames']]
        out['probability_file'] = 'probabilities.npz'
    return out


def _save_picture(picture, path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if isinstance(picture, np.ndarray):
        Image.fromarray(picture).save(path)
        return
    images = [Image.fromarray(frame) for frame in picture]
    images[0].save(path, save_all=True, append_images=images[1:],
                   duration=GIF_FRAME_MS, loop=0)


def write_outputs(result: dict, pictures: Pictures, folder: str) -> Dict[
        str, str]:
    """Writes a result, its masks (AVS) and pictures into ``folder``.

    Returns:
        ``{file name: path}`` of everything written.
    """
    os.makedirs(folder, exist_ok=True)
    written = {}
    if result.get('task') == 'avs':
        for entry in result['frames']:
            name = f'masks/{entry["second"]:02d}.png'
            written[name] = osp.join(folder, name)
            _save_picture(entry['mask'].astype(np.uint8) * 255, written[name])
        written['probabilities.npz'] = osp.join(folder, 'probabilities.npz')
        np.savez_compressed(
            written['probabilities.npz'],
            probability=np.stack([e['probability']
                                  for e in result['frames']]))
    for name, picture in pictures.items():
        written[name] = osp.join(folder, name)
        _save_picture(picture, written[name])
    written['result.json'] = osp.join(folder, 'result.json')
    with open(written['result.json'], 'w') as f:
        json.dump(json_ready(result), f, indent=2, ensure_ascii=False)
    return written
