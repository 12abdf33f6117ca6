# The quick-start MUSIC-AVQA model with LAVisH adapters instead of MoLT
# (configs/_base_/models/demo_schemes.py), for benchmarks and
# tools/analysis_tools/compare_schemes.py on CPU.
_base_ = ['./avqa_synthetic.py', '../_base_/models/demo_schemes.py']

model = _base_.lavish_model

# The adapters sit inside the backbones, which then run with gradients:
# no feature cache (the MoLT demo's FeatureCacheHook is left out).
custom_hooks = [dict(type='VocabularyHook')]
