"""Base of the datasets stored in the layout of molt's video converters."""
import os.path as osp
from typing import Dict, List, Sequence

from mmengine.dataset import BaseDataset

from .coverage import report_coverage, scan_media
from .utils import AnnotationError, exclude_videos

__all__ = ['ConvertedVideoDataset']


class ConvertedVideoDataset(BaseDataset):
    """A dataset of videos converted by ``tools/dataset_converters`` (see
    :mod:`molt.datasets.media.release`)::

        data_root/<annotation files>
        data_root/frames/<video_id>/00.jpg ...   (1 fps)
        data_root/audio/<video_id>.wav           (32 kHz mono)
        data_root/unreadable_videos.txt          (only if some failed)

    Subclasses parse their annotation file in :meth:`parse_annotations`
    into samples with ``video_id``, ``segment_seconds``, ``frame_dir`` and
    ``audio_path`` (see :meth:`media_paths`). This class then

    * drops the samples of videos the converter could not decode (listed
      in ``exclude_file``) and logs how many;
    * measures every video's frames and wav at start-up (file names and
      wav headers, nothing is decoded): a missing or unreadable file fails
      before training, naming it;
    * logs how many samples read more seconds than their frames or audio
      cover (a video shorter than the protocol, frames and audio of
      different lengths), naming the first few with both lengths, and
      keeps them: the loaders repeat the last second, as the peers do
      (:func:`~molt.datasets.coverage.report_coverage`).

    Args:
        ann_file: Annotation file, relative to ``data_root``.
        data_root: Dataset root.
        data_prefix: Sub-folders of frames and audio.
        check_files: Measure the media files at start-up (see above).
        exclude_file: File in ``data_root`` listing undecodable videos
            (``<id><TAB><reason>`` lines); ignored when absent.
        pipeline: Transforms.
        test_mode: Whether the dataset is used for evaluation.
    """

    #: Dataset name used in messages.
    NAME = 'dataset'

    def __init__(self,
                 ann_file: str,
                 data_root: str,
                 data_prefix: Dict[str, str] = dict(
                     frames='frames', audio='audio'),
                 check_files: bool = True,
                 exclude_file: str = 'unreadable_videos.txt',
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs):
        self.check_files = check_files
        self.exclude_file = exclude_file
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=dict(data_prefix),
            pipeline=list(pipeline),
            test_mode=test_mode,
            **kwargs)

    def parse_annotations(self) -> List[dict]:
        """Reads ``self.ann_file`` into samples (one dict each)."""
        raise NotImplementedError

    def media_paths(self, video_id: str) -> Dict[str, str]:
        """``frame_dir`` and ``audio_path`` of a video."""
        return dict(
            frame_dir=osp.join(self.data_prefix['frames'], video_id),
            audio_path=osp.join(self.data_prefix['audio'], f'{video_id}.wav'))

    def load_data_list(self) -> List[dict]:
        data_list = exclude_videos(self.parse_annotations(),
                                   osp.join(self.data_root, self.exclude_file),
                                   self.ann_file)
        if not data_list:
            raise AnnotationError(f'{self.ann_file} has no samples.')
        if self.check_files:
            sources = {
                info['video_id']: (info['frame_dir'], info['audio_path'])
                for info in data_list
            }
            coverage = scan_media(sources, self.NAME)
            report_coverage(data_list,
                            lambda info: coverage[info['video_id']],
                            self.ann_file)
        return data_list
