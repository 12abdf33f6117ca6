from .layer_selection import (STAGE_NAMES, LayerSpec, normalize_index,
                              resolve_layers)

__all__ = ['STAGE_NAMES', 'LayerSpec', 'normalize_index', 'resolve_layers']
