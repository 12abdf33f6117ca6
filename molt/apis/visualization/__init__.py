"""Pictures of inference results (one small file per picture kind)."""
from .frame_strip import answer_strip, strip_size
from .mask_overlay import overlay_mask
from .render import DPI, figure_to_image
from .timeline import ave_timeline, thumbnail_step, timeline_size

__all__ = [
    'answer_strip', 'strip_size', 'overlay_mask', 'DPI', 'figure_to_image',
    'ave_timeline', 'thumbnail_step', 'timeline_size'
]
