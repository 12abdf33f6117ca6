"""The synthetic pretraining world: determinism and labels that match what
is drawn and played."""
import numpy as np
import pytest

from molt.datasets.synthetic.pretraining import (COLOURS, OBJECT_CLASSES,
                                                 SHAPES, SOUND_CLASSES,
                                                 TONE_BANDS, PretrainingWorld,
                                                 WorldBatches)


def test_samples_depend_only_on_seed_split_and_index():
    world = PretrainingWorld(seed=3, frame_size=32, grid=2,
                             sample_rate=8000, clip_seconds=0.5)
    frames, frame_labels = world.frames('train', range(6))
    clips, clip_labels = world.clips('train', range(6))
    assert frames.shape == (6, 32, 32, 3) and frames.dtype == np.uint8
    assert frame_labels.shape == (6, 4, len(OBJECT_CLASSES))
    assert clips.shape == (6, 4000) and clips.dtype == np.float32
    assert clip_labels.shape == (6, len(SOUND_CLASSES))
    # Any slice, drawn alone or by another world with the same seed.
    again = PretrainingWorld(seed=3, frame_size=32, grid=2,
                             sample_rate=8000, clip_seconds=0.5)
    part, part_labels = again.frames('train', [4, 2])
    np.testing.assert_array_equal(part, frames[[4, 2]])
    np.testing.assert_array_equal(part_labels, frame_labels[[4, 2]])
    np.testing.assert_array_equal(again.clips('train', [5])[0], clips[5:])
    # Other seeds and splits draw other samples.
    other_seed = PretrainingWorld(seed=4, frame_size=32, grid=2)
    assert not np.array_equal(other_seed.frames('train', range(6))[0], frames)
    assert not np.array_equal(world.frames('val', range(6))[0], frames)
    with pytest.raises(ValueError, match='unknown split'):
        world.frames('test', [0])


def test_frame_labels_are_the_visible_colours_of_each_cell():
    """Objects are painted with their colour jittered by at most 15 per
    channel; a colour is labelled in a cell exactly when enough of the
    cell shows it."""
    size, grid = 64, 2
    frames, labels = PretrainingWorld(seed=0, frame_size=size,
                                      grid=grid).frames('train', range(40))
    cell = size // grid
    minimum = 0.015 * cell * cell
    checked = 0
    for frame, frame_labels in zip(frames, labels):
        cells = frame.reshape(grid, cell, grid, cell, 3).transpose(
            0, 2, 1, 3, 4).reshape(grid * grid, cell * cell, 3).astype(int)
        for k, (_, rgb) in enumerate(COLOURS):
            near = (np.abs(cells - np.array(rgb)) <= 15).all(-1).sum(1)
            expected = near >= minimum
            np.testing.assert_array_equal(
                frame_labels[:, len(SHAPES) + k], expected)
            checked += int(expected.sum())
        # A cell shows a shape exactly when it shows a colour.
        np.testing.assert_array_equal(
            frame_labels[:, :len(SHAPES)].any(1),
            frame_labels[:, len(SHAPES):].any(1))
    assert checked > 40  # objects were drawn, not only empty frames


def test_clip_labels_match_the_spectrum():
    rate = 32000
    clips, labels = PretrainingWorld(seed=0, sample_rate=rate,
                                     clip_seconds=1.0).clips(
                                         'train', range(120))
    tones = silent = 0
    for wave, label in zip(clips, labels):
        if not label.any():
            # Only the background noise (RMS at most 0.03).
            assert np.sqrt(np.mean(wave**2)) < 0.035
            silent += 1
        elif label.sum() == 1 and label[:len(TONE_BANDS)].any():
            # A lone tone peaks within 9 % of its band's centre.
            spectrum = np.abs(np.fft.rfft(wave))
            peak = np.fft.rfftfreq(len(wave), 1 / rate)[spectrum.argmax()]
            centre = TONE_BANDS[int(np.flatnonzero(label)[0])]
            assert abs(peak / centre - 1) <= 0.1
            tones += 1
    assert silent > 5 and tones > 5


def test_world_batches_cover_the_split_in_order():
    world = PretrainingWorld(seed=1, frame_size=32, grid=2,
                             sample_rate=8000, clip_seconds=0.25)
    for modality in ('frames', 'clips'):
        batches = WorldBatches(world, modality, 'probe', size=4, count=10)
        assert len(batches) == 3
        inputs = [batches[i][0] for i in range(3)]
        labels = [batches[i][1] for i in range(3)]
        assert [len(x) for x in inputs] == [4, 4, 2]
        expected, expected_labels = getattr(world, modality)('probe',
                                                             range(10))
        np.testing.assert_array_equal(np.concatenate(inputs), expected)
        np.testing.assert_array_equal(np.concatenate(labels),
                                      expected_labels.astype(np.float32))
        with pytest.raises(IndexError):
            batches[3]
    with pytest.raises(ValueError, match='modality'):
        WorldBatches(world, 'videos', 'train', 4, 8)
