"""Rendering matplotlib figures to images, without pyplot."""
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ['figure_to_image', 'DPI']

#: Resolution of every inference picture.
DPI = 100


def figure_to_image(fig: Figure) -> np.ndarray:
    """Renders ``fig`` with Agg at :data:`DPI`.

    Returns:
        ``(H, W, 3)`` uint8 RGB, ``H, W`` = the figure size in inches times
        :data:`DPI`.
    """
    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
