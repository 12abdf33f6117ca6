"""Media files, one module per job.

* :mod:`.decoding`: decoding a video file (any container FFmpeg reads)
  into 1 fps JPEG frames and mono int16 audio, in memory;
* :mod:`.conversion`: writing those as a video's converted files (1 fps
  JPEGs and a wav), for one video or many;
* :mod:`.release`: converting a dataset release (the plumbing of
  ``tools/dataset_converters``);
* :mod:`.converted_files`: reading converted files (frames, masks, wavs)
  back, with errors naming the file;
* :mod:`.encoding`: encoding frames and audio into a video file (the
  reverse of the conversion, ``tools/misc/converted_to_video.py``).
"""
from .conversion import (ConversionJob, ConversionResult, ConversionSummary,
                         convert_many, convert_video, is_converted)
from .converted_files import (MediaFileError, count_frames, image_size,
                              read_mask, read_rgb, read_wav, wav_seconds)
from .decoding import (AUDIO_TOLERANCE, DecodedMedia, MediaDecodeError,
                       decode_media, encode_frame)
from .encoding import converted_to_video, write_video
from .release import (FAILED_LIST, MISMATCH_LIST, SAMPLE_RATE,
                      VIDEO_EXTENSIONS, convert_release, converter_parser,
                      locate_videos, require_files)

__all__ = [
    'ConversionJob', 'ConversionResult', 'ConversionSummary', 'convert_many',
    'convert_video', 'is_converted', 'MediaFileError', 'count_frames',
    'image_size', 'read_mask', 'read_rgb', 'read_wav', 'wav_seconds',
    'AUDIO_TOLERANCE', 'DecodedMedia', 'MediaDecodeError', 'decode_media',
    'encode_frame',
    'converted_to_video', 'write_video', 'FAILED_LIST', 'MISMATCH_LIST',
    'SAMPLE_RATE', 'VIDEO_EXTENSIONS', 'convert_release', 'converter_parser',
    'locate_videos', 'require_files'
]
