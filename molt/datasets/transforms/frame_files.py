"""Loading frames listed file by file (datasets without a 1 fps folder)."""
from molt.engine.feature_cache import MediaTransform
from molt.registry import TRANSFORMS
from ..media.converted_files import read_rgb

__all__ = ['LoadFrameFiles']


@TRANSFORMS.register_module()
class LoadFrameFiles(MediaTransform):
    """Loads one frame per segment from an explicit list of image files
    (e.g. AVSBench's ``{name}_{i}.png``); a missing or undecodable file
    raises an error naming it.

    Required keys: ``frame_paths`` (one path per segment).
    Added keys: ``frames`` (list of ``(H, W, 3)`` uint8 RGB arrays).
    """

    def transform(self, results: dict) -> dict:
        results['frames'] = [read_rgb(path) for path in results['frame_paths']]
        return results
