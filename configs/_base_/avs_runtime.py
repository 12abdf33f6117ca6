# Runtime of the AVS configs: the default one plus a visualiser that draws
# predicted and ground-truth masks over each video's frames.
# `tools/test.py CONFIG CKPT --show-dir DIR` turns the hook on.
_base_ = './default_runtime.py'

default_hooks = dict(visualization=dict(type='AVVisualizationHook'))
visualizer = dict(type='AVSVisualizer', name='avs_visualizer')
