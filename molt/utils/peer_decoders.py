"""What the peers' task decoders build but never run, and how each task's
scripts count parameters (for :func:`molt.utils.params.paper_count`).

molt's decoders (``CMBSHead``, ``STAVQAHead``, ``AVSBenchHead``) hold the
modules the official ``forward`` runs. The official models also build
modules whose output is never used, and the peers' counting loops count
them. :func:`decoder_extras` builds them from the official shapes, at
random initialisation, for counting only (they are never part of a molt
model). Read from DG-SCT @ 211fc57 and AVMoE @ edd2383
(docs/en/paper_reading.md, "Task decoders").
"""
from typing import Dict, Optional

import timm
from torch import nn

__all__ = ['TASK_OF_HEAD', 'CODEBASE_OF_ADAPTER', 'decoder_extras']

#: The task whose scripts' counting loop applies, by molt's decoder.
TASK_OF_HEAD = dict(CMBSHead='ave', STAVQAHead='avqa', AVSBenchHead='avs')

#: The public code base a peer scheme's figures come from. LAVisH's own
#: code (GenjiB/LAVISH) counts with the same loops, but molt's decoders are
#: not LAVisH's, so no decoder extras are added for it.
CODEBASE_OF_ADAPTER = dict(
    DGSCTAdapter='dgsct', AVMoEAdapter='avmoe', LAVisHAdapter='lavish')

# CMRAN's layers inside CMBS's temporal attention (``nets/models.py``):
# d_model 256, 4 heads, feed-forward 1024.
D_MODEL, FFN = 256, 1024


def _attention() -> nn.Module:
    return nn.MultiheadAttention(D_MODEL, 4)


def _encoder_layer() -> nn.Module:
    """``EncoderLayer`` (self-attention, two linears, two LayerNorms)."""
    return nn.TransformerEncoderLayer(D_MODEL, 4, FFN)


def _decoder_layer() -> nn.Module:
    """``DecoderLayer``: ``self_attn`` (built, never run), ``multihead_attn``,
    two linears, two LayerNorms."""
    return nn.ModuleDict(
        dict(self_attn=_attention(), multihead_attn=_attention(),
             linear1=nn.Linear(D_MODEL, FFN), linear2=nn.Linear(FFN, D_MODEL),
             norm1=nn.LayerNorm(D_MODEL), norm2=nn.LayerNorm(D_MODEL)))


def _prototypes() -> nn.Module:
    """One temporal attention's registered ``encoder_layer`` (video, audio)
    and ``decoder_layer`` (video, audio): ``Encoder``/``Decoder`` deep-copy
    them (``_get_clones``, ``nets/models.py`` 26/160) and never run the
    originals (DG-SCT ``AVE/nets/net_trans.py`` 63-64/82-83; AVMoE
    ``net_trans_v3.py`` 61/80): 3.685 M."""
    return nn.ModuleList([_encoder_layer(), _encoder_layer(),
                          _decoder_layer(), _decoder_layer()])


def _ave(codebase: str) -> Dict[str, nn.Module]:
    """AVE: the prototypes and the ``self_attn`` of the two cloned decoder
    layers (``DecoderLayer.forward`` runs only ``multihead_attn``): 4.21 M;
    DG-SCT also builds CMBS's ``AVInter``/``VAInter`` (attention +
    LayerNorm each, ``net_trans.py`` 261-262) and drops their output
    (286): +0.53 M."""
    extras = dict(prototypes=_prototypes(),
                  decoder_self_attention=nn.ModuleList(
                      [_attention(), _attention()]))
    if codebase == 'dgsct':
        extras['cmbs_interaction'] = nn.ModuleList([
            nn.ModuleDict(dict(attention=_attention(),
                               norm=nn.LayerNorm(D_MODEL))) for _ in range(2)
        ])
    return extras


def _avqa() -> Dict[str, nn.Module]:
    """AVQA: ``fc_a1_pure`` (768 -> 1536) and ``fc_a2_pure`` (1536 -> 1536),
    built and never used (DG-SCT ``AVQA/net_grd_avst/net_avst.py``
    275-276; AVMoE the same): 3.54 M."""
    return dict(fc_a_pure=nn.Sequential(nn.Linear(768, 1536),
                                        nn.Linear(1536, 1536)))


def _residual_conv_unit(channels: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1),
                         nn.Conv2d(channels, channels, 3, padding=1))


def _avs() -> Dict[str, nn.Module]:
    """AVS (DG-SCT ``avs_s4/model/PVT_AVSModel.py``; AVMoE's
    ``PVT_AVSModel_v2.py`` the same), 117.11 M:

    * PVT-v2-b5 (``encoder_backbone``, 628; its call is commented out,
      885): timm's ``pvt_v2_b5`` without classifier, 81.44 M;
    * the ASPPs at PVT widths 64/128/320/512 (``conv1``-``conv4``,
      604-607, bypassed 920-923): 9.44 M;
    * ``x1_linear``-``x4_linear`` to PVT widths: 1.09 M;
    * four temporal attentions' prototypes (4 x 3.685 M) and their
      CMRA decoders (``video_decoder``/``audio_decoder``, affine + cloned
      layer, outputs dropped): 14.74 + 9.21 M;
    * ``path4.resConfUnit1`` (never called): 1.18 M.
    """
    cmra = nn.ModuleList()
    for _ in range(4):
        for input_dim in (512, D_MODEL):
            cmra.append(nn.ModuleDict(
                dict(affine=nn.Linear(input_dim, D_MODEL),
                     layer=_decoder_layer())))
    return dict(
        pvt_v2_b5=timm.create_model('pvt_v2_b5', pretrained=False,
                                    num_classes=0),
        pvt_aspp=nn.ModuleList([
            nn.ModuleList([
                nn.Conv2d(dims, 256, 3, padding=d, dilation=d)
                for d in (3, 6, 12, 18)
            ]) for dims in (64, 128, 320, 512)
        ]),
        pvt_linear=nn.ModuleList([
            nn.Linear(i, o)
            for i, o in ((192, 64), (384, 128), (768, 320), (1536, 512))
        ]),
        prototypes=nn.ModuleList([_prototypes() for _ in range(4)]),
        cmra_decoders=cmra,
        path4_res_conf_unit1=_residual_conv_unit(256))


def decoder_extras(codebase: Optional[str],
                   task: Optional[str]) -> Dict[str, nn.Module]:
    """Modules a peer's official decoder for ``task`` builds and never runs.

    Args:
        codebase: ``'dgsct'``, ``'avmoe'`` (or anything else: none).
        task: ``'ave'``, ``'avqa'`` or ``'avs'`` (or None: none).

    Returns:
        ``{name: module}`` at random initialisation; the shapes are those of
        the Swin-V2-L + HTS-AT models (build under ``torch.device('meta')``
        to count without memory).
    """
    if codebase not in ('dgsct', 'avmoe'):
        return {}
    if task == 'ave':
        return _ave(codebase)
    if task == 'avqa':
        return _avqa()
    if task == 'avs':
        return _avs()
    return {}
