# The quick start with the frozen-feature cache: epoch 1 computes and
# stores the backbone features, later epochs read them (no backbone, no
# frame or audio decoding). Fill it ahead of time with
#   python tools/extract_features.py configs/demo/ave_synthetic_cached.py
_base_ = './ave_synthetic.py'

custom_hooks = [dict(type='EpochTimerHook'), dict(type='FeatureCacheHook')]
