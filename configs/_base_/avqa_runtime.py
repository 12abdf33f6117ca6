# Runtime of the MUSIC-AVQA configs: the default one, selecting models on
# the overall val accuracy (mmengine cannot infer the rule of this key).
_base_ = './default_runtime.py'

default_hooks = dict(
    checkpoint=dict(save_best='avqa/Overall', rule='greater'))
