"""Drawing: the one package for pictures of results.

* :class:`AVSVisualizer` (the ``VISUALIZERS`` registry): AVS predictions
  and ground truth, for ``tools/test.py --show-dir``;
* :func:`overlay_mask`: a mask over a frame, used by the visualiser and by
  the inferencer's AVS task;
* matplotlib pictures, imported from their modules (so that registering
  molt's modules does not import matplotlib): the inferencer's
  :mod:`.ave_timeline` and :mod:`.answer_strip` (rendered by
  :mod:`.render`), and the analysis tools' :mod:`.plots`.
"""
from .avs_visualizer import AVSVisualizer
from .mask_overlay import overlay_mask

__all__ = ['AVSVisualizer', 'overlay_mask']
