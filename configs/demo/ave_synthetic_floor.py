# The floor of the scheme comparison: the quick-start model without any
# adapter; the head reads the frozen backbones' last block
# (tools/analysis_tools/compare_schemes.py).
_base_ = './ave_synthetic.py'

model = dict(
    adapter=dict(_delete_=True, type='FrozenReadout'),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    tor_loss=None)
