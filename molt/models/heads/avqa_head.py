"""AVQA head: question encoder, audio-guided grounding, question-guided
temporal attention, answer classifier (the peers' AVQA_Fusion_Net)."""
import math
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from molt.registry import MODELS
from molt.structures import AVDataSample
from .base import BaseAVQAHead

__all__ = ['AVQAHead', 'QuestionEncoder']


class QuestionEncoder(nn.Module):
    """Word ids -> one question vector (ST-AVQA's ``QstEncoder``):
    embeddings, ``tanh``, a one-layer LSTM over the real words (padding is
    packed away), ``tanh([h; c])`` and a linear layer.

    Args:
        vocab_size: Number of words, ``<pad>`` included.
        embed_dims: Width of the word embeddings and of the LSTM state.
        out_dims: Width of the question vector.
        pad_id: Id of ``<pad>``.
    """

    def __init__(self, vocab_size: int, embed_dims: int, out_dims: int,
                 pad_id: int = 0):
        super().__init__()
        self.pad_id = pad_id
        self.embedding = nn.Embedding(
            vocab_size, embed_dims, padding_idx=pad_id)
        self.lstm = nn.LSTM(embed_dims, embed_dims, batch_first=True)
        self.fc = nn.Linear(2 * embed_dims, out_dims)

    def forward(self, question: Tensor) -> Tensor:
        """``(B, L)`` ids -> ``(B, out_dims)``."""
        # An all-padding question still gets one step (an empty sequence
        # cannot be packed).
        lengths = (question != self.pad_id).sum(1).clamp(min=1).cpu()
        words = torch.tanh(self.embedding(question))
        packed = pack_padded_sequence(
            words, lengths, batch_first=True, enforce_sorted=False)
        _, (hidden, cell) = self.lstm(packed)
        return self.fc(torch.tanh(torch.cat([hidden[-1], cell[-1]], -1)))


class QuestionGuidedAttention(nn.Module):
    """The question vector attends over the ``T`` steps of one stream,
    followed by a residual feed-forward block and LayerNorm; the stream's
    temporal mean is added (as in ST-AVQA).

    Args:
        dims: Width of the question and of the stream.
        num_heads: Attention heads.
        dropout: Dropout of the attention and the feed-forward block.
    """

    def __init__(self, dims: int, num_heads: int, dropout: float):
        super().__init__()
        self.attn = nn.MultiheadAttention(
            dims, num_heads, dropout=dropout, batch_first=True)
        self.ffn = nn.Sequential(
            nn.Linear(dims, dims), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(dims, dims), nn.Dropout(dropout))
        self.norm = nn.LayerNorm(dims)

    def forward(self, question: Tensor, stream: Tensor) -> Tensor:
        """``(B, C)`` question, ``(B, T, C)`` stream -> ``(B, C)``."""
        attended, _ = self.attn(
            question.unsqueeze(1), stream, stream, need_weights=False)
        attended = attended.squeeze(1)
        attended = self.norm(attended + self.ffn(attended))
        return attended + stream.mean(1)


@MODELS.register_module()
class AVQAHead(BaseAVQAHead):
    """The peers' AVQA head (ST-AVQA / LAVisH ``AVQA_Fusion_Net``) on fused
    MoLT tokens.

    1. Question: :class:`QuestionEncoder` over the word ids ``(B, L)``
       gives ``q`` ``(B, C)``.
    2. Audio: per segment, the audio tokens are pooled and passed through a
       two-layer MLP, ``(B, T, C)``.
    3. Audio-guided grounding: per segment, the audio vector attends over
       the projected visual tokens ``(B, T, N, C)`` (scaled dot product,
       softmax over ``N``, as in :class:`AVEHead`; the peers' unscaled
       cosine similarity leaves the softmax almost uniform);
       ``tanh([mean token; grounded token])`` and a linear layer give the
       visual stream ``(B, T, C)``.
    4. Question-guided temporal attention over the ``T`` segments, one
       :class:`QuestionGuidedAttention` per stream.
    5. Fusion: ``tanh([audio; visual])`` -> linear, times ``q``, ``tanh``,
       dropout and the answer classifier ``(B, num_answers)``.

    ``loss_answer`` is the cross-entropy of the answer. With
    ``match_loss_weight > 0`` the peers' audio-visual matching loss is
    added as ``loss_match``: each sample's audio also grounds the visual
    tokens of the next sample in the batch (the peers draw another video
    from the dataset; the batch gives one for free), and a
    small MLP on ``[audio; grounded visual]`` classifies every segment as
    matched (own video) or mismatched, with cross-entropy. Pairs whose
    videos are the same (MUSIC-AVQA has several questions per video) are
    left out, so the samples need ``video_id`` in their metainfo.

    ``num_answers`` and ``vocab_size`` are the sizes of the training
    vocabulary: configs leave them None and ``tools/train.py`` /
    ``tools/test.py`` fill them from the dataset's (or the checkpoint's)
    metainfo.

    Args:
        visual_dims: Width of the visual tokens (filled in by the model).
        audio_dims: Width of the audio tokens (filled in by the model).
        num_answers: Answers in the training vocabulary.
        vocab_size: Question words in the training vocabulary.
        hidden_dims: Width ``C`` of every stream (peers: 512).
        num_heads: Heads of the temporal attention.
        dropout: Dropout of the attention blocks and before the classifier.
        match_loss_weight: Weight of the matching loss; 0 disables it (and
            builds no matching MLP).
        pad_id: Id of ``<pad>`` in the question.
    """

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 num_answers: Optional[int] = None,
                 vocab_size: Optional[int] = None,
                 hidden_dims: int = 512,
                 num_heads: int = 4,
                 dropout: float = 0.1,
                 match_loss_weight: float = 0.0,
                 pad_id: int = 0,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, num_answers, vocab_size,
                         init_cfg)
        self.question_encoder = QuestionEncoder(vocab_size, hidden_dims,
                                                hidden_dims, pad_id)
        self.audio_proj = nn.Sequential(
            nn.Linear(audio_dims, hidden_dims), nn.ReLU(),
            nn.Linear(hidden_dims, hidden_dims))
        self.visual_proj = nn.Linear(visual_dims, hidden_dims)
        self.visual_fc = nn.Linear(2 * hidden_dims, hidden_dims)
        self.audio_attn = QuestionGuidedAttention(hidden_dims, num_heads,
                                                  dropout)
        self.visual_attn = QuestionGuidedAttention(hidden_dims, num_heads,
                                                   dropout)
        self.fusion_fc = nn.Linear(2 * hidden_dims, hidden_dims)
        self.dropout = nn.Dropout(dropout)
        self.answer_fc = nn.Linear(hidden_dims, num_answers)
        self.match_loss_weight = match_loss_weight
        self.matcher = None
        if match_loss_weight > 0:
            self.matcher = nn.Sequential(
                nn.Linear(2 * hidden_dims, hidden_dims), nn.ReLU(),
                nn.Linear(hidden_dims, hidden_dims // 4), nn.ReLU(),
                nn.Linear(hidden_dims // 4, 2))

    def _ground(self, tokens: Tensor, audio: Tensor) -> Tensor:
        """Audio-guided grounding.

        Args:
            tokens: Projected visual tokens ``(B, T, N, C)``.
            audio: Audio vectors ``(B, T, C)``.

        Returns:
            The visual stream ``(B, T, C)``.
        """
        scores = torch.einsum('btnc,btc->btn', tokens, audio)
        attn = (scores / math.sqrt(tokens.shape[-1])).softmax(-1)
        grounded = torch.einsum('btn,btnc->btc', attn, tokens)
        return self.visual_fc(
            torch.tanh(torch.cat([tokens.mean(2), grounded], -1)))

    def _streams(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Projected ``tokens`` ``(B, T, N, C)``, ``audio`` and grounded
        ``visual`` ``(B, T, C)``, and the ``question`` vector ``(B, C)``."""
        if 'question' not in feats:
            raise KeyError(
                'AVQAHead needs the "question" model input: pack it with '
                "PackAVInputs(input_keys=('question', )) after "
                'TokenizeQuestion.')
        audio = self.audio_proj(feats['audio'].mean(2))
        tokens = self.visual_proj(feats['visual'])
        return dict(
            tokens=tokens,
            audio=audio,
            visual=self._ground(tokens, audio),
            question=self.question_encoder(feats['question']))

    def _answer_logits(self, streams: Dict[str, Tensor]) -> Tensor:
        question = streams['question']
        audio = self.audio_attn(question, streams['audio'])
        visual = self.visual_attn(question, streams['visual'])
        fused = self.fusion_fc(torch.tanh(torch.cat([audio, visual], -1)))
        fused = self.dropout(torch.tanh(fused * question))
        return self.answer_fc(fused)

    def forward(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Returns ``answer_logits`` ``(B, num_answers)``."""
        return dict(answer_logits=self._answer_logits(self._streams(feats)))

    def _match_loss(self, streams: Dict[str, Tensor],
                    data_samples: List[AVDataSample]) -> Tensor:
        """Matched vs. mismatched cross-entropy over all segments; the
        mismatched visual tokens are the next sample's."""
        video_ids = [s.metainfo.get('video_id') for s in data_samples]
        if None in video_ids:
            raise KeyError(
                'The matching loss needs each sample\'s "video_id" (add it '
                'to PackAVInputs meta_keys) to avoid pairing a video with '
                'itself.')
        audio = streams['audio']
        other = torch.tensor([a != b for a, b in zip(
            video_ids, video_ids[-1:] + video_ids[:-1])],
                             device=audio.device)
        positive = self.matcher(torch.cat([audio, streams['visual']], -1))
        if not other.any():
            # No different video in the batch: nothing to contrast with.
            return positive.sum() * 0
        negative_visual = self._ground(streams['tokens'].roll(1, 0), audio)
        negative = self.matcher(torch.cat([audio, negative_visual], -1))
        logits = torch.cat([positive.flatten(0, 1),
                            negative[other].flatten(0, 1)])
        labels = torch.zeros(len(logits), dtype=torch.long,
                             device=logits.device)
        labels[:positive.shape[0] * positive.shape[1]] = 1
        return F.cross_entropy(logits, labels)

    def loss(self, feats: Dict[str, Tensor],
             data_samples: List[AVDataSample]) -> Dict[str, Tensor]:
        streams = self._streams(feats)
        logits = self._answer_logits(streams)
        answers = torch.stack([s.gt_answer for s in data_samples]).view(-1)
        losses = dict(
            loss_answer=F.cross_entropy(logits, answers.to(logits.device)))
        if self.matcher is not None:
            losses['loss_match'] = self.match_loss_weight * self._match_loss(
                streams, data_samples)
        return losses
