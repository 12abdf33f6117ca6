from .avs_visualizer import AVSVisualizer

__all__ = ['AVSVisualizer']
