"""AVQA head: ST-AVQA's ``net_grd_avst`` (Li et al., CVPR 2022) as DG-SCT
and AVMoE instantiate it on Swin-V2-L + HTS-AT features."""
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from molt.structures import AVDataSample
from .avqa_head import QuestionEncoder, QuestionGuidedAttention
from .base import BaseAVQAHead

__all__ = ['STAVQAHead']


def mlp(dims: Sequence[int]) -> nn.Sequential:
    """Linear layers of widths ``dims`` with ReLU between them."""
    layers: List[nn.Module] = []
    for i, (in_dims, out_dims) in enumerate(zip(dims[:-1], dims[1:])):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(in_dims, out_dims))
    return nn.Sequential(*layers)


@MODELS.register_module()
class STAVQAHead(BaseAVQAHead):
    """ST-AVQA's spatio-temporal grounding network (``AVQA_Fusion_Net``)
    at the visual width, as DG-SCT/AVMoE build it on Swin-V2-L (``C`` =
    1536): every stream is ``C = visual_dims`` wide.

    Per segment, with the fused MoLT tokens ``z_v`` ``(N, C)`` in place of
    the peers' final 6x6 Swin-V2 map and the mean of the fused audio tokens
    in place of their pooled HTS-AT output (AVMoE's ``f_a.mean(dim=1)``):

    1. question ``q = QstEncoder(words)`` ``(C, )`` (LSTM, ``tanh([h; c])``,
       linear; :class:`QuestionEncoder`);
    2. audio ``a = W_a2 ReLU(W_a1 mean(z_a))`` ``(C, )``;
    3. spatial grounding: ``p = softmax_n(s cos(z_v[n], a))``, grounded
       ``g = sum_n p_n z_v[n] / |z_v[n]|`` (the normalised tokens, as in
       the reference), ``v = W_gl tanh([mean_n z_v; g])`` ``(C, )``;
       ``s = grounding_scale`` (1 in the reference);
    4. question-guided temporal attention over the ``T`` segments for
       ``a`` and ``v`` (:class:`QuestionGuidedAttention`: attention with
       ``q`` as query, residual FFN, LayerNorm, plus the temporal mean);
    5. ``f = W_f tanh([a_att; v_att])``; answer logits ``W_ans tanh(f *
       q)`` ``(B, num_answers)``.

    Losses (``main_avst.py``): ``loss_answer`` the answers' cross-entropy;
    ``loss_match`` (``match_loss_weight``, 0.5 in the reference) the
    audio-visual matching cross-entropy: an MLP ``2C -> 512 -> 256 -> 128
    -> 2`` classifies ``[a; v]`` of every segment as matched (label 1) or,
    with the visual tokens of another video, mismatched (label 0). The
    reference draws the other video from the dataset and reads it through
    the frozen Swin-V2 without adapters; here it is the next sample of the
    batch, read through the same adapters, and pairs of one video
    (MUSIC-AVQA asks several questions per video) are left out, so the
    samples need ``video_id`` in their metainfo.

    Not built: the references' unused ``fc_a1_pure``/``fc_a2_pure`` (3.5 M
    at ``C`` = 1536 in DG-SCT/AVMoE) and the dropout they define but do not
    apply. The question encoder packs the padding away where the reference
    runs its LSTM over the padded question (same parameters).

    ``num_answers`` and ``vocab_size`` are the sizes of the training
    vocabulary (MUSIC-AVQA: 42 and 93 with ``<pad>``): configs leave them
    None and ``tools/train.py``/``tools/test.py`` fill them in.

    Args:
        visual_dims: Width ``C`` of the visual tokens and of every stream
            (filled in by the model).
        audio_dims: Width of the audio tokens (filled in by the model).
        num_answers: Answers in the training vocabulary.
        vocab_size: Question words in the training vocabulary.
        num_heads: Heads of the temporal attention (reference: 4).
        dropout: Dropout of the temporal attention blocks (0.1).
        match_dims: Hidden widths of the matching MLP (512, 256, 128).
        match_loss_weight: Weight of ``loss_match``; 0 builds no matcher.
        grounding_scale: Multiplies the cosine similarities before the
            grounding softmax (1 = the reference).
        pad_id: Id of ``<pad>`` in the question.
    """

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 num_answers: Optional[int] = None,
                 vocab_size: Optional[int] = None,
                 num_heads: int = 4,
                 dropout: float = 0.1,
                 match_dims: Sequence[int] = (512, 256, 128),
                 match_loss_weight: float = 0.5,
                 grounding_scale: float = 1.0,
                 pad_id: int = 0,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, num_answers, vocab_size,
                         init_cfg)
        width = visual_dims
        self.question_encoder = QuestionEncoder(vocab_size, width, width,
                                                pad_id)
        self.audio_mlp = mlp((audio_dims, width, width))
        self.grounding_fc = nn.Linear(2 * width, width)
        self.audio_attn = QuestionGuidedAttention(width, num_heads, dropout)
        self.visual_attn = QuestionGuidedAttention(width, num_heads, dropout)
        self.fusion_fc = nn.Linear(2 * width, width)
        self.answer_fc = nn.Linear(width, num_answers)
        self.grounding_scale = grounding_scale
        self.match_loss_weight = match_loss_weight
        self.matcher = (mlp((2 * width, *match_dims, 2))
                        if match_loss_weight > 0 else None)

    def ground(self, tokens: Tensor, audio: Tensor) -> Tensor:
        """Audio-guided spatial grounding.

        Args:
            tokens: Visual tokens ``(B, T, N, C)``.
            audio: Audio vectors ``(B, T, C)``.

        Returns:
            The visual stream ``(B, T, C)``.
        """
        unit_tokens = F.normalize(tokens, dim=-1)
        scores = torch.einsum('btnc,btc->btn', unit_tokens,
                              F.normalize(audio, dim=-1))
        weights = (self.grounding_scale * scores).softmax(-1)
        grounded = torch.einsum('btn,btnc->btc', weights, unit_tokens)
        return self.grounding_fc(
            torch.tanh(torch.cat([tokens.mean(2), grounded], -1)))

    def _streams(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``audio`` and grounded ``visual`` ``(B, T, C)`` and the
        ``question`` vector ``(B, C)``."""
        if 'question' not in feats:
            raise KeyError(
                'STAVQAHead needs the "question" model input: pack it with '
                "PackAVInputs(input_keys=('question', )) after "
                'TokenizeQuestion.')
        audio = self.audio_mlp(feats['audio'].mean(2))
        return dict(
            audio=audio,
            visual=self.ground(feats['visual'], audio),
            question=self.question_encoder(feats['question']))

    def _answer_logits(self, streams: Dict[str, Tensor]) -> Tensor:
        question = streams['question']
        audio = self.audio_attn(question, streams['audio'])
        visual = self.visual_attn(question, streams['visual'])
        fused = self.fusion_fc(torch.tanh(torch.cat([audio, visual], -1)))
        return self.answer_fc(torch.tanh(fused * question))

    def forward(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Returns ``answer_logits`` ``(B, num_answers)``."""
        return dict(answer_logits=self._answer_logits(self._streams(feats)))

    def match_logits(self, feats: Dict[str, Tensor],
                     streams: Dict[str, Tensor],
                     video_ids: Sequence) -> Dict[str, Tensor]:
        """Matching logits ``positive`` ``(B*T, 2)`` (own visual tokens)
        and ``negative`` ``(B'*T, 2)`` (the next sample's, for the ``B'``
        samples whose next sample is another video)."""
        audio = streams['audio']
        positive = self.matcher(torch.cat([audio, streams['visual']], -1))
        other = torch.tensor(
            [a != b for a, b in zip(video_ids, video_ids[1:] + video_ids[:1])],
            device=audio.device)
        tokens = feats['visual'].roll(-1, 0)[other]
        negative = self.matcher(
            torch.cat([audio[other],
                       self.ground(tokens, audio[other])], -1))
        return dict(
            positive=positive.flatten(0, 1), negative=negative.flatten(0, 1))

    def loss(self, feats: Dict[str, Tensor],
             data_samples: List[AVDataSample]) -> Dict[str, Tensor]:
        streams = self._streams(feats)
        logits = self._answer_logits(streams)
        answers = torch.stack([s.gt_answer for s in data_samples]).view(-1)
        losses = dict(
            loss_answer=F.cross_entropy(logits, answers.to(logits.device)))
        if self.matcher is None:
            return losses
        video_ids = [s.metainfo.get('video_id') for s in data_samples]
        if None in video_ids:
            raise KeyError(
                'STAVQAHead\'s matching loss needs each sample\'s "video_id" '
                '(add it to PackAVInputs meta_keys) so that a video is never '
                'its own negative; or set model.head.match_loss_weight=0.')
        match = self.match_logits(feats, streams, video_ids)
        if not len(match['negative']):
            # Every next sample is the same video: nothing to contrast.
            losses['loss_match'] = match['positive'].sum() * 0
            return losses
        match_logits = torch.cat([match['positive'], match['negative']])
        labels = torch.cat([
            match_logits.new_ones(len(match['positive']), dtype=torch.long),
            match_logits.new_zeros(len(match['negative']), dtype=torch.long)
        ])
        losses['loss_match'] = self.match_loss_weight * F.cross_entropy(
            match_logits, labels)
        return losses
