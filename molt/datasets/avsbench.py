"""AVSBench: audio-visual segmentation (Zhou et al., 2022), S4 and MS3."""
import csv
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.dataset import BaseDataset

from molt.registry import DATASETS
from .coverage import MediaCoverage, report_coverage
from .media.converted_files import MediaFileError, wav_seconds
from .utils import DATA_README, AnnotationError, open_annotation, require_file

__all__ = ['AVSBenchDataset', 'AVS_LAYOUTS']

#: Frames (and masks) per video; file ``i`` (1-based, as in the release)
#: is second ``i - 1`` of the 5 s clip.
NUM_FRAMES = 5
SPLITS = ('train', 'val', 'test')

#: Per subset: meta-data file, its required columns and the media paths
#: (relative to the media root) of the official release.
AVS_LAYOUTS = dict(
    s4=dict(
        ann_file='s4_meta_data.csv',
        columns=('name', 'category', 'split'),
        frame='visual_frames/{split}/{category}/{name}/{name}_{index}.png',
        mask='gt_masks/{split}/{category}/{name}/{name}_{index}.png',
        audio='audio_wav/{split}/{category}/{name}.wav'),
    ms3=dict(
        ann_file='ms3_meta_data.csv',
        columns=('name', 'split'),
        frame='visual_frames/{name}/{name}.mp4_{index}.png',
        mask='gt_masks/{split}/{name}/{name}_{index}.png',
        audio='audio_wav/{split}/{name}.wav'))


@DATASETS.register_module()
class AVSBenchDataset(BaseDataset):
    """AVSBench-object, single-source (S4) or multi-source (MS3) subset.

    One sample is one video of the chosen ``split``: 5 frames, one wav and a
    binary mask per labelled frame. The meta-data csv is comma-separated
    with a header; columns are found by name (others are ignored)::

        s4_meta_data.csv:  name,start_time,category,split
        ms3_meta_data.csv: name,split

    Media paths, relative to ``data_root/data_prefix['media']``, with frame
    index ``i`` in ``1..5`` (the release's numbering)::

        S4   visual_frames/{split}/{category}/{name}/{name}_{i}.png
             gt_masks/{split}/{category}/{name}/{name}_{i}.png
             audio_wav/{split}/{category}/{name}.wav
        MS3  visual_frames/{name}/{name}.mp4_{i}.png   (no split folder)
             gt_masks/{split}/{name}/{name}_{i}.png
             audio_wav/{split}/{name}.wav

    Protocol: S4 trains on the first frame's mask only (the release has no
    other S4 training masks) and evaluates all five; MS3 trains and
    evaluates all five. ``labelled_frames`` states which frames carry a
    mask; the sample's ``mask_paths`` holds None for the others and the
    loading transform turns that into ``mask_valid=False``.

    Args:
        subset: ``'s4'`` or ``'ms3'``.
        split: ``'train'``, ``'val'`` or ``'test'`` (rows of other splits
            are skipped).
        ann_file: Meta-data csv relative to ``data_root``; defaults to the
            subset's (``s4_meta_data.csv`` / ``ms3_meta_data.csv``).
        data_root: Folder with the csv.
        data_prefix: ``media``: folder of ``visual_frames``, ``gt_masks``
            and ``audio_wav`` relative to ``data_root`` (``''`` when they
            sit beside the csv, ``'s4_data'`` in the unpacked release).
        labelled_frames: 0-based frames with a mask; None follows the
            protocol above (S4 train: ``(0, )``, otherwise all five).
        only_labelled_frames: Keep only the labelled frames (and their
            seconds of audio) in each sample. For a model that treats
            frames independently, like :class:`AVSHead`, the others cannot
            change the mask loss (only the small token regulariser sees
            them), so S4 training gets 5x cheaper.
        check_files: Verify at start-up that every frame, labelled mask
            and wav exists and measure the wavs, so a missing or unreadable
            file fails before training, naming it. A wav shorter than the
            seconds a sample reads makes the loader repeat its last
            second; such samples are logged
            (:func:`~molt.datasets.coverage.report_coverage`).
        pipeline: Transforms.
        test_mode: Whether the dataset is used for evaluation.
    """

    METAINFO = dict(classes=('sounding object', ))

    def __init__(self,
                 subset: str = 's4',
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 data_root: str = 'data/avsbench/s4',
                 data_prefix: Dict[str, str] = dict(media=''),
                 labelled_frames: Optional[Sequence[int]] = None,
                 only_labelled_frames: bool = False,
                 check_files: bool = True,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs):
        if subset not in AVS_LAYOUTS:
            raise ValueError(f'AVSBenchDataset: subset={subset!r}; use one '
                             f'of {sorted(AVS_LAYOUTS)}.')
        if split not in SPLITS:
            raise ValueError(
                f'AVSBenchDataset: split={split!r}; use one of {SPLITS}.')
        if 'media' not in data_prefix:
            raise ValueError(
                "AVSBenchDataset: data_prefix needs 'media', the folder of "
                "visual_frames/gt_masks/audio_wav ('' beside the csv).")
        self.subset, self.split = subset, split
        self.layout = AVS_LAYOUTS[subset]
        if labelled_frames is None:
            labelled_frames = ((0, ) if (subset, split) == ('s4', 'train')
                               else range(NUM_FRAMES))
        self.labelled_frames = sorted(set(labelled_frames))
        if not set(self.labelled_frames) <= set(range(NUM_FRAMES)):
            raise ValueError(f'labelled_frames={list(labelled_frames)} must '
                             f'lie in 0..{NUM_FRAMES - 1}.')
        self.frames = (self.labelled_frames
                       if only_labelled_frames else list(range(NUM_FRAMES)))
        self.check_files = check_files
        super().__init__(
            ann_file=ann_file or self.layout['ann_file'],
            data_root=data_root,
            data_prefix=dict(data_prefix),
            pipeline=list(pipeline),
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        ann_file = require_file(self.ann_file, f'AVSBench {self.subset} '
                                'meta-data file')
        data_list = []
        with open_annotation(ann_file, newline='') as f:
            reader = csv.reader(f)
            header = [name.strip() for name in next(reader, [])]
            missing = [c for c in self.layout['columns'] if c not in header]
            if missing:
                raise AnnotationError(
                    f'{ann_file}:1: the header must name the columns '
                    f'{list(self.layout["columns"])}; missing {missing} in '
                    f'{header}.')
            columns = {c: header.index(c) for c in self.layout['columns']}
            for row in reader:
                if not any(field.strip() for field in row):
                    continue
                row_info = self._parse_row(row, header, columns,
                                           f'{ann_file}:{reader.line_num}')
                if row_info['split'] == self.split:
                    data_list.append(self._sample(row_info))
        if not data_list:
            raise AnnotationError(
                f'{ann_file} has no rows of split {self.split!r}.')
        if self.check_files:
            audio = _check_files(data_list, self.subset)
            # The frames are listed files, all present: only the wav can
            # end early.
            report_coverage(
                data_list,
                lambda info: MediaCoverage(NUM_FRAMES,
                                           audio[info['audio_path']]),
                ann_file)
        return data_list

    @staticmethod
    def _parse_row(row: List[str], header: List[str],
                   columns: Dict[str, int], where: str) -> Dict[str, str]:
        if len(row) != len(header):
            raise AnnotationError(
                f'{where}: expected {len(header)} comma-separated fields '
                f'({",".join(header)}), got {len(row)}: {row}')
        fields = {key: row[index].strip() for key, index in columns.items()}
        empty = [key for key, value in fields.items() if not value]
        if empty:
            raise AnnotationError(f'{where}: empty {empty} in {row}')
        if fields['split'] not in SPLITS:
            raise AnnotationError(
                f"{where}: split {fields['split']!r} is not one of "
                f'{SPLITS}: {row}')
        return fields

    def _sample(self, fields: Dict[str, str]) -> dict:
        media = self.data_prefix['media']

        def path(key: str, index: Optional[int] = None) -> str:
            return osp.join(media,
                            self.layout[key].format(index=index, **fields))

        return dict(
            video_id=fields['name'],
            category=fields.get('category'),
            frame_paths=[path('frame', t + 1) for t in self.frames],
            mask_paths=[
                path('mask', t + 1) if t in self.labelled_frames else None
                for t in self.frames
            ],
            audio_path=path('audio'),
            segment_seconds=list(self.frames))


def _check_files(data_list: Sequence[dict], subset: str,
                 limit: int = 10) -> Dict[str, float]:
    """Measures the wavs; raises FileNotFoundError listing missing frames,
    masks and wavs and unreadable wavs.

    Returns:
        ``{audio_path: seconds}``.
    """
    missing, audio = [], {}
    for info in data_list:
        try:
            audio[info['audio_path']] = wav_seconds(info['audio_path'])
        except FileNotFoundError:
            missing.append(info['audio_path'])
        except MediaFileError as error:
            missing.append(str(error))
        paths = info['frame_paths'] + [
            p for p in info['mask_paths'] if p is not None
        ]
        missing += [p for p in paths if not osp.isfile(p)]
    if missing:
        shown = '\n  '.join(missing[:limit])
        raise FileNotFoundError(
            f'AVSBench {subset}: {len(missing)} media file(s) are missing or '
            f'unreadable, e.g.:\n  {shown}\nCheck data_root and data_prefix '
            f'against the layout in {DATA_README}.')
    return audio
