"""CMBS's temporal relation layers, shared by the CMBS and AVSBench heads
and DG-SCT's adapter."""
import math

import torch
from torch.nn import functional as F

from molt.models.layers import TemporalRelationModule, relation_layer


def _attention(layer, query, kv):
    """nn.MultiheadAttention written out with the layer's weights."""
    attn = layer.attentions[0].attn
    heads, dims = attn.num_heads, attn.embed_dim
    w_q, w_k, w_v = attn.in_proj_weight.chunk(3)
    b_q, b_k, b_v = attn.in_proj_bias.chunk(3)

    def split(x):
        return x.unflatten(-1, (heads, dims // heads)).transpose(1, 2)

    q, k, v = (split(x @ w.T + b) for x, w, b in (
        (query, w_q, b_q), (kv, w_k, b_k), (kv, w_v, b_v)))
    weights = (q @ k.transpose(-1, -2) / math.sqrt(dims // heads)).softmax(-1)
    out = (weights @ v).transpose(1, 2).flatten(2)
    return attn.out_proj(out)


def _post_norm_layer(layer, query, kv):
    """CMRAN's EncoderLayer/DecoderLayer (eval mode)."""
    norm1, norm2 = layer.norms
    fc1, fc2 = layer.ffns[0].layers[0][0], layer.ffns[0].layers[1]
    x = norm1(query + _attention(layer, query, kv))
    return norm2(x + fc2(F.relu(fc1(x))))


def test_relation_layers_are_cmrans():
    x, memory = torch.randn(2, 10, 16), torch.randn(2, 10, 16)
    encoder = relation_layer(16, 4, 32, 0.1, cross=False).eval()
    assert torch.allclose(encoder(x), _post_norm_layer(encoder, x, x),
                          atol=1e-5)

    # The CMRA decoder attends to [memory of the other modality; itself].
    temporal = TemporalRelationModule(24, 12, visual_fc_dims=16,
                                      audio_fc_dims=8, d_model=16,
                                      ffn_dims=32, num_heads=2).eval()
    decoder = temporal.audio_decoder[0]
    kv = torch.cat([memory, x], 1)
    assert torch.allclose(
        temporal._decode(x, memory, temporal.audio_decoder),
        _post_norm_layer(decoder, x, kv), atol=1e-5)
