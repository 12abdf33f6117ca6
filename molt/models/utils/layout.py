"""What adapters need to know about a backbone to be built."""
from dataclasses import dataclass
from typing import List

__all__ = ['BackboneLayout']


@dataclass(frozen=True)
class BackboneLayout:
    """Per-block facts of a backbone, in flat block order.

    Attributes:
        dims: Channels of each block's output.
        num_tokens: Tokens of each block's output.
        stages: Stage index of each block.
    """
    dims: List[int]
    num_tokens: List[int]
    stages: List[int]

    @property
    def num_layers(self) -> int:
        return len(self.dims)

    @property
    def num_stages(self) -> int:
        return max(self.stages) + 1

    def blocks_of_stage(self, stage: int) -> List[int]:
        return [i for i, s in enumerate(self.stages) if s == stage]

    @classmethod
    def of(cls, backbone) -> 'BackboneLayout':
        """The layout of a :class:`FrozenSwinBackbone`."""
        return cls(
            dims=list(backbone.layer_dims),
            num_tokens=list(backbone.layer_num_tokens),
            stages=list(backbone.layer_stages))
