# The quick-start AVE model with DG-SCT adapters instead of MoLT
# (configs/_base_/models/demo_schemes.py), for benchmarks and
# tools/analysis_tools/compare_schemes.py on CPU.
_base_ = ['./ave_synthetic.py', '../_base_/models/demo_schemes.py']

model = _base_.dgsct_model
