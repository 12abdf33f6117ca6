# The quick-start model with the Mettle-style scheme (parallel uni-modal
# distillers on every block, averaged).
_base_ = './ave_synthetic.py'

model = dict(
    adapter=dict(visual_layers='all', audio_layers='all', num_uda=1,
                 num_cda=0),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    tor_loss=None)
