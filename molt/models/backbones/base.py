"""Frozen timm Swin encoders read block by block.

Both visual (Swin-V2) and audio (HTS-AT, a Swin-v1) encoders are timm Swin
models; this base class holds what they share: freezing, the per-block
loop with early stop, the stage maps for dense tasks, and the stepping API
that sequential adapters (LAVisH) use to add their outputs inside blocks.

timm (>= 0.9) runs each stage's patch merging *first* and keeps tokens NHWC,
so block ``i`` of the flat block list is: the stage's ``downsample`` if ``i``
opens a stage, then ``stage.blocks[j]``.

Pretrained weights are loaded by ``init_weights()`` (the OpenMMLab
convention, which the Runner follows), not at build time. Until then a
backbone built with ``pretrained=PATH`` holds random weights, so it refuses
to run (:meth:`FrozenSwinBackbone.forward`, and the stepping calls
:meth:`~FrozenSwinBackbone.forward_downsample` /
:meth:`~FrozenSwinBackbone.forward_block`) with a message saying to call
``init_weights()``. Loading a state dict that holds every backbone weight
(a molt checkpoint, as ``tools/test.py`` does) counts as loaded too.
"""
from typing import Callable, List, Optional, Sequence, Tuple, Union

from mmengine.model import BaseModule
from torch import Tensor, nn

from ..utils import normalize_index

# An adapter placed inside a block: maps tokens (B, N, C) to a residual
# update (B, N, C) that is added next to the block's own branch.
BlockAdapter = Callable[[Tensor], Tensor]

__all__ = ['FrozenSwinBackbone', 'BlockAdapter']


class FrozenSwinBackbone(BaseModule):
    """Base class of molt's frozen Swin encoders.

    Subclasses build a timm Swin model, call :meth:`_setup_encoder` and
    implement :meth:`forward_stem`, :meth:`_attn_branch` and
    :meth:`_mlp_branch`.

    Attributes:
        encoder: The timm Swin model (no classifier).
        num_layers: Number of transformer blocks over all stages.
        layer_dims: Channels of each block's output.
        layer_num_tokens: Tokens ``N = H * W`` of each block's output.
        layer_stages: Stage index of each block.
        stage_dims: Channels of the four stage maps.
    """

    encoder: nn.Module

    def _setup_encoder(self, encoder: nn.Module) -> None:
        """Indexes the blocks of ``encoder`` and freezes everything.

        Args:
            encoder: timm SwinTransformer(V2) with ``layers[s].downsample``
                and ``layers[s].blocks``.
        """
        self.encoder = encoder
        self._blocks: List[Tuple[int, int]] = []
        self.layer_dims: List[int] = []
        self.layer_num_tokens: List[int] = []
        self.layer_stages: List[int] = []
        self.stage_dims: List[int] = []
        for stage_index, stage in enumerate(encoder.layers):
            height, width = stage.output_resolution
            dim = stage.blocks[0].norm1.normalized_shape[0]
            self.stage_dims.append(dim)
            for block_index in range(len(stage.blocks)):
                self._blocks.append((stage_index, block_index))
                self.layer_dims.append(dim)
                self.layer_num_tokens.append(height * width)
                self.layer_stages.append(stage_index)
        self.requires_grad_(False)
        self.eval()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A state dict holding every weight of this backbone (a checkpoint
        # of the whole model) replaces the random initialisation as well as
        # init_weights() would.
        own = self.state_dict()
        if all(prefix + key in state_dict
               and state_dict[prefix + key].shape == value.shape
               for key, value in own.items()):
            self._is_init = True
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _check_weights_loaded(self) -> None:
        """Refuses to compute features from random weights by accident."""
        pretrained = getattr(self, 'pretrained', None)
        if pretrained is not None and not self._is_init:
            raise RuntimeError(
                f'{type(self).__name__}: the pretrained weights {pretrained} '
                'are not loaded yet, so the backbone holds random weights. '
                'Call init_weights() on the model (or the backbone) after '
                'building it; the Runner does this when training, but code '
                'that builds the model itself must do it too. Build with '
                'pretrained=None to use random weights on purpose.')

    @property
    def num_layers(self) -> int:
        return len(self._blocks)

    @property
    def num_stages(self) -> int:
        return len(self.stage_dims)

    def train(self, mode: bool = True) -> 'FrozenSwinBackbone':
        """Stays in eval mode: no dropout, drop-path or BN updates."""
        return super().train(False)

    # -- stepping API ------------------------------------------------------
    def forward_stem(self, x: Tensor) -> Tensor:
        """Input to the NHWC patch tokens ``(B, H, W, C)`` entering block 0."""
        raise NotImplementedError

    def _attn_branch(self, block: nn.Module, x: Tensor) -> Tensor:
        """The block's attention residual branch on NHWC ``x``."""
        raise NotImplementedError

    def _mlp_branch(self, block: nn.Module, x: Tensor) -> Tensor:
        """The block's MLP residual branch on NHWC ``x``."""
        raise NotImplementedError

    def block(self, index: int) -> nn.Module:
        """The timm block at flat position ``index``."""
        stage_index, block_index = self._blocks[index]
        return self.encoder.layers[stage_index].blocks[block_index]

    def opens_stage(self, index: int) -> bool:
        """Whether block ``index`` is the first block of its stage."""
        return self._blocks[index][1] == 0

    def is_stage_end(self, index: int) -> bool:
        """Whether block ``index`` is the last block of its stage."""
        return (index == self.num_layers - 1
                or self.layer_stages[index + 1] != self.layer_stages[index])

    def forward_downsample(self, x: Tensor, stage_index: int) -> Tensor:
        """Enters stage ``stage_index``: its patch merging (identity for
        stage 0), NHWC in and out."""
        self._check_weights_loaded()
        return self.encoder.layers[stage_index].downsample(x)

    def forward_block(self,
                      x: Tensor,
                      index: int,
                      attn_adapter: Optional[BlockAdapter] = None,
                      mlp_adapter: Optional[BlockAdapter] = None) -> Tensor:
        """Runs block ``index`` alone (call :meth:`forward_downsample` first
        when it opens a stage).

        Adapters, when given, see the tokens entering the residual branch
        and their output is added to the residual stream beside the
        branch (LAVisH's placement)::

            x = x + attn_branch(x) + attn_adapter(x)
            x = x + mlp_branch(x) + mlp_adapter(x)

        Args:
            x: NHWC tokens ``(B, H, W, C)`` entering the block.
            index: Flat block index in ``[0, num_layers)``.
            attn_adapter: Maps ``(B, N, C)`` tokens to a ``(B, N, C)`` update.
            mlp_adapter: Same, beside the MLP branch.

        Returns:
            NHWC tokens leaving the block.
        """
        self._check_weights_loaded()
        block = self.block(index)
        if attn_adapter is None and mlp_adapter is None:
            return block(x)
        shape = x.shape
        update = self._attn_branch(block, x)
        if attn_adapter is not None:
            update = update + attn_adapter(x.flatten(1, 2)).view(shape)
        x = x + update
        update = self._mlp_branch(block, x)
        if mlp_adapter is not None:
            update = update + mlp_adapter(x.flatten(1, 2)).view(shape)
        return x + update

    def forward_attn_residual(
            self,
            x: Tensor,
            index: int,
            adapter: Optional[BlockAdapter] = None) -> Tensor:
        """The first half of block ``index``:
        ``x + attn_branch(x) (+ adapter(x))``.

        With :meth:`forward_mlp_residual` it lets two backbones step in
        lockstep half a block at a time, so that an adapter beside one
        backbone's MLP branch reads the other backbone's state after its
        attention (DG-SCT's and AVMoE's placement). Both halves in a row
        equal :meth:`forward_block`.

        Args:
            x: NHWC tokens ``(B, H, W, C)`` entering the block.
            index: Flat block index in ``[0, num_layers)``.
            adapter: Maps ``(B, N, C)`` tokens to a ``(B, N, C)`` update.

        Returns:
            NHWC tokens entering the MLP branch.
        """
        self._check_weights_loaded()
        update = self._attn_branch(self.block(index), x)
        if adapter is not None:
            update = update + adapter(x.flatten(1, 2)).view(x.shape)
        return x + update

    def forward_mlp_residual(self,
                             x: Tensor,
                             index: int,
                             adapter: Optional[BlockAdapter] = None) -> Tensor:
        """The second half of block ``index``:
        ``x + mlp_branch(x) (+ adapter(x))`` (see
        :meth:`forward_attn_residual`); NHWC in and out."""
        self._check_weights_loaded()
        update = self._mlp_branch(self.block(index), x)
        if adapter is not None:
            update = update + adapter(x.flatten(1, 2)).view(x.shape)
        return x + update

    def forward_final_norm(self, x: Tensor) -> Tensor:
        """The encoder's final LayerNorm (frozen, from the checkpoint) on
        tokens leaving the last block, ``(..., C)`` in and out. The readers
        above stop before it; the peers (DG-SCT, AVMoE) apply Swin-V2's to
        its last output."""
        self._check_weights_loaded()
        return self.encoder.norm(x)

    def to_stage_map(self, x: Tensor, stage: int) -> Tensor:
        """NHWC tokens leaving ``stage`` to the NCHW map dense heads read;
        the last stage's map passes :meth:`forward_final_norm`, as every
        official AVSBench decoder reads it (``multi_scale.append(
        self.swin.norm(f_v))`` for the fourth stage: DG-SCT
        ``avs_s4/model/PVT_AVSModel.py`` 850-853, AVMoE
        ``PVT_AVSModel_v2.py`` 873-876, LAVisH ``PVT_AVSModel.py`` 471)."""
        if stage == self.num_stages - 1:
            x = self.forward_final_norm(x)
        return x.permute(0, 3, 1, 2).contiguous()

    @staticmethod
    def to_tokens(x: Tensor) -> Tensor:
        """NHWC ``(B, H, W, C)`` to tokens ``(B, H*W, C)``."""
        return x.flatten(1, 2)

    # -- reading -----------------------------------------------------------
    def forward(
        self,
        x: Tensor,
        out_layers: Union[int, Sequence[int]] = (-1, ),
        return_stage_maps: bool = False
    ) -> Union[List[Tensor], Tuple[List[Tensor], List[Tensor]]]:
        """Returns the outputs of the requested blocks.

        The loop stops after the deepest requested block unless stage maps
        are requested (they need the full depth).

        Args:
            x: Backbone input (images ``(B, 3, H, W)`` or waveforms, see the
                subclass).
            out_layers: Flat block indices, negatives allowed.
            return_stage_maps: Also return the last block of every stage as
                an NCHW map (for dense heads; the last map through the
                final LayerNorm, see :meth:`to_stage_map`). The tapped
                tokens never pass that norm.

        Returns:
            A list of ``(B, N, C)`` token tensors in the order of
            ``out_layers``; with ``return_stage_maps`` a tuple
            ``(tokens, maps)`` where ``maps[s]`` is ``(B, C_s, H_s, W_s)``.
        """
        self._check_weights_loaded()
        if isinstance(out_layers, int):
            out_layers = [out_layers]
        indices = [
            normalize_index(i, self.num_layers, 'out_layers')
            for i in out_layers
        ]
        if not indices and not return_stage_maps:
            raise ValueError('out_layers is empty and no stage maps were '
                             'requested: nothing to compute.')
        last = self.num_layers - 1 if return_stage_maps else max(indices)
        wanted = set(indices)
        taps, maps = {}, []
        x = self.forward_stem(x)
        for index in range(last + 1):
            if self.opens_stage(index):
                x = self.forward_downsample(x, self.layer_stages[index])
            x = self.forward_block(x, index)
            if index in wanted:
                taps[index] = self.to_tokens(x)
            if return_stage_maps and self.is_stage_end(index):
                maps.append(
                    self.to_stage_map(x, self.layer_stages[index]))
        tokens = [taps[i] for i in indices]
        return (tokens, maps) if return_stage_maps else tokens

    def _check_grids(self, owner: str) -> None:
        """Raises if patch merging or the attention window cannot tile a
        stage grid (timm would silently pad instead)."""
        for stage_index, stage in enumerate(self.encoder.layers):
            in_h, in_w = stage.input_resolution
            if not isinstance(stage.downsample, nn.Identity) and (in_h % 2 or
                                                                  in_w % 2):
                raise ValueError(
                    f'{owner}: the {in_h}x{in_w} patch grid entering stage '
                    f'{stage_index} cannot be halved by patch merging; choose '
                    'img_size divisible by patch_size * 2**(num_stages - 1).')
            height, width = stage.output_resolution
            win_h, win_w = stage.blocks[0].window_size
            if height % win_h or width % win_w:
                raise ValueError(
                    f'{owner}: stage {stage_index} has a {height}x{width} grid '
                    f'that a {win_h}x{win_w} window cannot tile; choose '
                    'img_size and window_size so that every stage grid is a '
                    'multiple of the window (or not larger than it).')
