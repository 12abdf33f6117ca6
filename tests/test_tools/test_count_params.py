"""count_params.py and the per-component counts, molt's way and the
papers' way."""
import pytest

from molt.utils.params import (count_parameters, paper_count,
                               peer_backbone_extras, strip_pretrained)
from molt_testing import REPO, load_script


def test_counts_add_up(build_tiny_model):
    model = build_tiny_model()
    rows = count_parameters(model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    assert rows['total'] == (trainable, total)
    assert rows['visual backbone'][0] == 0
    assert rows['visual backbone'][1] == sum(
        p.numel() for p in model.visual_backbone.parameters())
    assert rows['adapter'][0] == rows['adapter'][1] > 0
    norms = sum(p.numel() for name in ('visual', 'audio')
                for p in getattr(model, f'{name}_token_norm').parameters())
    assert rows['fusion'][1] == norms + sum(
        p.numel() for name in ('visual', 'audio')
        for p in getattr(model, f'{name}_fusion').parameters())


def test_shared_backbone_is_counted_once(build_tiny_model):
    model = build_tiny_model(
        audio_backbone=None,
        audio_frontend=dict(type='KaldiFbank', num_mel_bins=32,
                            num_frames=32))
    rows = count_parameters(model)
    assert rows['audio backbone'] == (0, 0)
    assert rows['total'][1] == sum(p.numel() for p in model.parameters())
    # The peers' extras of the one Swin-V2 are counted once too.
    assert paper_count(model)['extra'] == 128 * 21841 + 21841


def test_paper_count_on_a_toy_model(build_tiny_model, tiny_htsat_cfg):
    """Tiny Swin-V2 (128 features) + tiny HTS-AT (128 features, 128 px
    image, n_fft 256, 16 mels), extras computed by hand from the peers'
    module definitions."""
    model = build_tiny_model(audio_backbone=dict(tiny_htsat_cfg,
                                                 spec_size=128))
    swin_head = 128 * 21841 + 21841  # ImageNet-22k classifier
    # tscam_conv: 527 kernels of 128 x (SF=128//8//4//4=1) x 3, + bias.
    tscam_conv = 527 * 128 * 1 * 3 + 527
    sed_linear = 527 * 527 + 527
    stft = 2 * (256 // 2 + 1) * 256  # conv_real + conv_imag, no bias
    mel = (256 // 2 + 1) * 16
    extra = swin_head + tscam_conv + sed_linear + stft + mel
    assert extra == 3366752
    extras = peer_backbone_extras(model.audio_backbone)
    assert sorted(extras) == ['head', 'logmel_extractor',
                              'spectrogram_extractor', 'tscam_conv']
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    head = sum(p.numel() for p in model.head.parameters())
    total = sum(p.numel() for p in model.parameters()) + extra
    counted = paper_count(model)
    assert counted['extra'] == extra
    assert counted['total'] == total
    assert counted['percent'] == pytest.approx(100 * trainable / total)
    assert counted['percent_without_head'] == pytest.approx(
        100 * (trainable - head) / total)


def test_strip_pretrained():
    cfg = dict(a=dict(pretrained='x.pth', b=[dict(pretrained='y')]), c=1)
    assert strip_pretrained(cfg) == dict(
        a=dict(pretrained=None, b=[dict(pretrained=None)]), c=1)


def test_full_size_molt_ave_config_without_checkpoints(capsys):
    """Full width, counted both ways (docs/en/benchmarks.md)."""
    tool = load_script('tools/analysis_tools/count_params.py')
    config = str(REPO / 'configs' / 'molt' / 'ave_swin_htsat.py')
    rows = tool.main([config, '--paper-count'])[config]
    assert rows['visual backbone'] == [0, pytest.approx(195.2e6, rel=1e-3)]
    assert rows['audio backbone'] == [0, pytest.approx(27.53e6, rel=1e-3)]
    # Per-modality TD/CA weights at 1536 / 768, routers, latents, W f.
    assert rows['adapter'][0] == pytest.approx(17.86e6, rel=1e-3)
    assert rows['fusion'][0] == pytest.approx(1.48e6, rel=1e-2)
    paper = rows['paper']
    # timm's 22k classifier (33.57 M) + HTS-AT's SED head and front-end
    # (3.79 M): the backbones as the peers build them, 228.8 + 31.3 M.
    assert paper['extra'] == pytest.approx(37.36e6, rel=1e-3)
    # The paper's AVE row: 6.2 % of 290.3 M, i.e. 18.0 M.
    assert paper['trainable_without_head'] == pytest.approx(18.0e6, rel=0.1)
    assert paper['total'] == pytest.approx(290.3e6, rel=0.1)
    out = capsys.readouterr().out
    assert 'trainable (M)' in out and "the papers' way" in out


# -- the peers' per-task counting rules (paper_count) ----------------------
TINY_DGSCT = dict(type='DGSCTAdapter', num_latents=2, reduction_factor=2,
                  visual_pooling='mean', audio_pooling='mean')
TINY_HEADS = dict(
    ave=dict(type='CMBSHead', visual_fc_dims=16, audio_fc_dims=8,
             d_model=16, ffn_dims=32, num_heads=2),
    avqa=dict(type='STAVQAHead', num_answers=5, vocab_size=20, num_heads=2,
              match_dims=(12, 8, 4)),
    avs=dict(type='AVSBenchHead', channels=16, audio_channels=8,
             token_heads=0, reduction='linear',
             temporal=dict(d_model=16, ffn_dims=32, num_heads=2),
             output_channels=(8, 4), mask_size=24, decode_size=32))


def _mha(d):
    return 4 * d * d + 4 * d


def _encoder_layer(d=256, ff=1024):
    """CMRAN's EncoderLayer (DG-SCT nets/models.py): self-attention, two
    linears, two LayerNorms."""
    return _mha(d) + (d * ff + ff) + (ff * d + d) + 4 * d


def _decoder_layer(d=256, ff=1024):
    return _encoder_layer(d, ff) + _mha(d)  # + the unused self_attn


def test_decoder_extras_from_the_official_shapes():
    import torch

    from molt.utils.peer_decoders import decoder_extras

    def size(codebase, task):
        with torch.device('meta'):
            modules = decoder_extras(codebase, task)
        return sum(p.numel() for m in modules.values()
                   for p in m.parameters())

    prototypes = 2 * _encoder_layer() + 2 * _decoder_layer()
    assert prototypes == 3_685_376
    ave_avmoe = prototypes + 2 * _mha(256)
    assert size('avmoe', 'ave') == ave_avmoe == 4_211_712
    # DG-SCT's CMBS also builds AVInter/VAInter (attention + LayerNorm).
    assert size('dgsct', 'ave') == ave_avmoe + 2 * (_mha(256) + 512)
    assert size('dgsct', 'avqa') == (768 * 1536 + 1536) + (1536 * 1536 +
                                                          1536)
    aspp = sum(4 * (c * 256 * 9 + 256) for c in (64, 128, 320, 512))
    linear = sum(i * o + o for i, o in ((192, 64), (384, 128), (768, 320),
                                        (1536, 512)))
    cmra = 4 * ((512 * 256 + 256) + (256 * 256 + 256) + 2 * _decoder_layer())
    res_unit = 2 * (256 * 256 * 9 + 256)
    pvt_v2_b5 = 81_443_008  # timm pvt_v2_b5 without classifier
    assert size('avmoe', 'avs') == (pvt_v2_b5 + aspp + linear +
                                    4 * prototypes + cmra + res_unit)
    assert size('avmoe', 'avs') == 117_112_512
    assert size('lavish', 'ave') == size('dgsct', None) == 0


def _tiny(build_tiny_model, task, adapter):
    return build_tiny_model(adapter=adapter,
                            fusion=dict(type='AvgTokenFusion'),
                            token_norm=None, head=TINY_HEADS[task])


def _numel(module, match=lambda name: True):
    return sum(p.numel() for name, p in module.named_parameters()
               if match(name))


@pytest.mark.parametrize('task', ['ave', 'avqa', 'avs'])
def test_peer_rows_follow_their_tasks_loop(build_tiny_model, task):
    model = _tiny(build_tiny_model, task, TINY_DGSCT)
    counted = paper_count(model)
    assert counted['rule'] == task
    backbones = _numel(model.visual_backbone) + _numel(model.audio_backbone)
    trainable = _numel(model.adapter) + _numel(model.head)
    assert counted['trainable'] == trainable
    assert counted['decoder_extra'] == {
        'ave': 4_739_072, 'avqa': 3_542_016, 'avs': 117_112_512}[task]
    total = backbones + trainable + counted['extra']
    assert counted['total'] == total
    total += counted['decoder_extra']
    assert counted['paper_total'] == total
    if task == 'ave':
        # The adapters and the decoder (as built) are trainable.
        expected = trainable + counted['decoder_extra']
    elif task == 'avqa':
        # ... plus Swin-V2's LayerNorms (not HTS-AT's).
        norms = _numel(model.visual_backbone, lambda name: 'norm' in name)
        assert norms > 0
        expected = trainable + counted['decoder_extra'] + norms
    else:
        # Everything but Swin-V2 (its 22k classifier included): HTS-AT
        # and its SED head count as trainable.
        swin_head = 128 * 21841 + 21841
        expected = total - _numel(model.visual_backbone) - swin_head
        assert expected == (trainable + counted['decoder_extra'] +
                            _numel(model.audio_backbone) +
                            counted['extra'] - swin_head)
    assert counted['paper_trainable'] == expected
    assert counted['paper_percent'] == pytest.approx(100 * expected / total)


def test_lavish_counts_with_the_loop_but_no_decoder_extras(build_tiny_model):
    counted = paper_count(
        _tiny(build_tiny_model, 'ave', dict(type='LAVisHAdapter')))
    assert counted['rule'] == 'ave' and counted['decoder_extra'] == 0
    assert counted['paper_trainable'] == counted['trainable']


def test_molt_rows_keep_the_decoder_out_of_the_trainable_share(
        build_tiny_model):
    model = _tiny(build_tiny_model, 'avs',
                  dict(type='MoLTAdapter', embed_dims=32))
    counted = paper_count(model)
    assert counted['rule'] == 'molt' and counted['decoder_extra'] == 0
    head = _numel(model.head)
    assert counted['paper_trainable'] == counted['trainable'] - head
    assert counted['paper_percent'] == counted['percent_without_head']
