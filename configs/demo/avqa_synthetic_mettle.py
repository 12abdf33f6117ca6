# The quick-start MUSIC-AVQA model with the Mettle-style scheme (parallel uni-modal distillers on every
# block, averaged)
# (configs/_base_/models/demo_schemes.py), for benchmarks and
# tools/analysis_tools/compare_schemes.py on CPU.
_base_ = ['./avqa_synthetic.py', '../_base_/models/demo_schemes.py']

model = _base_.mettle_model
