"""Writing the numbers behind a plot: JSON and CSV.

Every analysis tool saves the data it draws next to the picture, so the
figure can be checked, re-plotted or compared without re-running the
model. Tensors and arrays become lists; NaN and infinities become JSON
``null`` / empty CSV cells (JSON has no NaN).
"""
import csv
import json
import math
import os
import os.path as osp
from typing import Any, Iterable, Sequence

import numpy as np
import torch

__all__ = ['to_jsonable', 'write_json', 'write_csv']


def to_jsonable(value: Any) -> Any:
    """``value`` with tensors/arrays as lists and non-finite floats as None.

    Args:
        value: Nested dicts, lists, tuples, tensors, arrays and scalars.
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _parent(path: str) -> None:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)


def write_json(data: Any, path: str) -> str:
    """Writes ``data`` (see :func:`to_jsonable`) as indented JSON.

    Returns:
        ``path``.
    """
    _parent(path)
    with open(path, 'w') as f:
        json.dump(to_jsonable(data), f, indent=2, allow_nan=False)
        f.write('\n')
    return path


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]],
              path: str) -> str:
    """Writes a table with a header row; non-finite numbers stay empty.

    Returns:
        ``path``.
    """
    _parent(path)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            cells = to_jsonable(list(row))
            writer.writerow(['' if cell is None else cell for cell in cells])
    return path
