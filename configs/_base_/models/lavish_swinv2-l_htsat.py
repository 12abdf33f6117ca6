# LAVisH with Swin-V2-L + HTS-AT, as the code base the MoLT paper's LAVisH
# rows come from builds it: DG-SCT's adapter without its dual-guided
# attention (DG-SCT @ 211fc57 `AVE/nets/net_trans.py` `VisualAdapter`
# without the `fc_affine_*` layers, 449-457). In every paired block of both
# frozen backbones, beside the attention and the MLP branch: the other
# modality mapped onto this modality's token grid (1x1 conv over tokens +
# linear), 32 latent tokens exchanging with it, a gated grouped-conv
# bottleneck; gradients through the backbones, mean-pooled final tokens.
# The AVE row (374.9 M / 30.6 %) is this model counted with DG-SCT's AVE
# loop (configs/lavish/README.md). LAVisH's own code (GenjiB/LAVISH) has
# one shared Swin-V2-L: lavish_swinv2-l_shared.py.
_base_ = './dgsct_swinv2-l_htsat.py'

model = dict(
    adapter=dict(
        guided_attention=False,
        visual_pooling='mean',
        audio_pooling='mean'))
