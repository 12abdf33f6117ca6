# The floor of the scheme comparison on the synthetic AVSBench S4 set: the
# quick-start model without any adapter; the head reads the frozen
# backbones' last block (tools/analysis_tools/compare_schemes.py).
_base_ = ['./avs_synthetic.py', '../_base_/models/demo_schemes.py']

model = _base_.floor_model
