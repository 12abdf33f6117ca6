# The quick-start model with LAVisH adapters instead of MoLT (for
# benchmarks and comparisons on CPU).
_base_ = './ave_synthetic.py'

model = dict(
    adapter=dict(_delete_=True, type='LAVisHAdapter', reduction_factor=4,
                 num_latents=2),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    tor_loss=None)
