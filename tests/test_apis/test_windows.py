"""Covering videos of any length with fixed-length windows."""
import pytest

from molt.apis.windows import assign_seconds, plan_windows, window_seconds


@pytest.mark.parametrize('seconds,length,overlap,starts', [
    (7, 10, 0, [0]),
    (10, 10, 0, [0]),
    (25, 10, 0, [0, 10, 15]),
    (30, 10, 0, [0, 10, 20]),
    (25, 10, 5, [0, 5, 10, 15]),
    (12, 5, 2, [0, 3, 6, 7]),
])
def test_windows_cover_the_video_with_real_content(seconds, length, overlap,
                                                   starts):
    assert plan_windows(seconds, length, overlap) == starts
    covered = {s for start in starts for s in window_seconds(start, length)}
    assert covered >= set(range(seconds))
    if seconds >= length:
        assert max(covered) == seconds - 1  # nothing past the end


def test_each_second_comes_from_the_window_where_it_is_most_central():
    starts = plan_windows(25, 10)  # 0-10, 10-20, 15-25
    owners = assign_seconds(starts, 10, 25)
    assert len(owners) == 25
    windows = [window for window, _ in owners]
    assert windows == [0] * 10 + [1] * 8 + [2] * 7
    # Second 17: position 7 of window 1 (2.5 from its centre 4.5) beats
    # position 2 of window 2 (2.5 too): a tie goes to the earlier window.
    assert owners[17] == (1, 7)
    assert owners[18] == (2, 3)
    for second, (window, position) in enumerate(owners):
        assert starts[window] + position == second


def test_overlap_must_be_shorter_than_a_window():
    with pytest.raises(ValueError, match='overlap must lie in 0..9'):
        plan_windows(30, 10, 10)
