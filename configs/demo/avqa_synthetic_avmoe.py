# The quick-start MUSIC-AVQA model with AVMoE adapters instead of MoLT
# (configs/_base_/models/demo_schemes.py), for benchmarks and
# tools/analysis_tools/compare_schemes.py on CPU.
_base_ = ['./avqa_synthetic.py', '../_base_/models/demo_schemes.py']

model = _base_.avmoe_model
