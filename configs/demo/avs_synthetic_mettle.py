# The quick-start AVSBench S4 model with the Mettle-style scheme
# (configs/_base_/models/demo_schemes.py): parallel uni-modal distillers on
# every block, averaged; for benchmarks and
# tools/analysis_tools/compare_schemes.py on CPU.
_base_ = ['./avs_synthetic.py', '../_base_/models/demo_schemes.py']

model = _base_.mettle_model
