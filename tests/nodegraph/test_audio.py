"""Audio: sound that streams in chunks, cut and joined by time without being held."""

from __future__ import annotations

import numpy as np
import pytest

from nodegraph.audio import Audio, concat_audio, waveform_peaks
from nodegraph.cache import value_nbytes
from nodegraph.types import AUDIO, BUILTIN_TYPES, colour_of, is_compatible


def ramp(n: int, channels: int = 2, rate: int = 1000) -> Audio:
    samples = np.arange(n * channels, dtype=np.float32).reshape(n, channels) / (n * channels)
    return Audio.from_array(samples, rate)


def streamed(n: int, block: int, pulls: list, rate: int = 1000) -> Audio:
    """A lazy mono stream of 0, 1, 2, ... in blocks of `block`, counting how many blocks were pulled."""

    def source():
        for start in range(0, n, block):
            pulls.append(start)
            yield np.arange(start, min(n, start + block), dtype=np.float32)

    return Audio(source, sample_rate=rate, channels=1, sample_count=n)


def test_audio_is_a_wire_type_with_its_own_colour():
    assert AUDIO in BUILTIN_TYPES and is_compatible(AUDIO, AUDIO) and not is_compatible(AUDIO, "VIDEO")
    assert colour_of(AUDIO) != colour_of("ANY")


def test_chunks_are_the_asked_size_and_add_up_to_the_samples():
    audio = ramp(1000)
    blocks = list(audio.chunks(300))
    assert [len(b) for b in blocks] == [300, 300, 300, 100]
    assert all(b.dtype == np.float32 and b.shape[1] == 2 for b in blocks)
    assert np.array_equal(np.concatenate(blocks), audio.to_array())
    assert audio.duration == 1.0 and audio.nbytes == 1000 * 2 * 4 and value_nbytes(audio) == audio.nbytes


def test_mono_arrays_become_one_channel_and_bad_arrays_are_refused():
    assert Audio.from_array(np.zeros(10, np.float64), 8000).to_array().shape == (10, 1)
    with pytest.raises(TypeError, match="float array"):
        Audio.from_array(np.zeros((10, 2), np.int16), 8000)
    with pytest.raises(ValueError, match="NaN"):
        Audio.from_array(np.array([0.0, np.nan], np.float32), 8000)
    with pytest.raises(ValueError, match="sample rate"):
        Audio.from_array(np.zeros(4, np.float32), 0)


def test_the_declared_length_wins_over_a_source_that_runs_short_or_long():
    short = Audio(lambda: iter((np.ones((5, 1), np.float32),)), sample_rate=10, channels=1, sample_count=8)
    assert short.to_array()[:, 0].tolist() == [1] * 5 + [0] * 3
    long = Audio(lambda: iter((np.ones((50, 1), np.float32),)), sample_rate=10, channels=1, sample_count=8)
    assert long.to_array().shape == (8, 1)


def test_a_source_with_the_wrong_shape_says_what_it_expected():
    bad = Audio(lambda: iter((np.ones((5, 3), np.float32),)), sample_rate=10, channels=2, sample_count=5)
    with pytest.raises(ValueError, match=r"expected \(n, 2\) float32"):
        bad.to_array()


def test_slicing_by_time_is_lazy_and_stops_pulling_past_the_end():
    pulls: list = []
    audio = streamed(1_000_000, 1000, pulls)
    part = audio.slice_time(2.0, 3.5)
    assert not pulls and part.sample_count == 1500 and part.duration == 1.5
    samples = part.to_array()[:, 0]
    assert samples[0] == 2000 and samples[-1] == 3499
    assert len(pulls) < 100  # the blocks up to one chunk past 3.5 s, not the whole 1000 s


def test_slicing_past_the_end_is_silence_and_a_reversed_range_is_refused():
    part = ramp(10, channels=1, rate=10).slice_samples(8, 12)
    assert part.to_array()[2:, 0].tolist() == [0, 0]
    with pytest.raises(ValueError, match="not a range"):
        ramp(10).slice_samples(5, 2)


def test_concatenation_plays_parts_in_order_and_refuses_mismatched_rates():
    pulls: list = []
    joined = concat_audio([ramp(10, 1, 1000), Audio.silence(5, 1000, 1), streamed(7, 3, pulls)])
    assert not pulls and joined.sample_count == 22
    samples = joined.to_array()[:, 0]
    assert np.array_equal(samples[:10], ramp(10, 1).to_array()[:, 0])
    assert samples[10:15].tolist() == [0] * 5 and samples[15:].tolist() == list(range(7))
    with pytest.raises(ValueError, match="resample or remix"):
        concat_audio([ramp(10, 1, 1000), ramp(10, 1, 2000)])


def test_fitting_to_a_duration_pads_or_cuts():
    audio = ramp(10, 1, 10)
    assert audio.with_duration(1.5).to_array().shape == (15, 1)
    assert np.array_equal(audio.with_duration(0.5).to_array(), audio.to_array()[:5])


def test_remixing_copies_mono_and_mixes_down_to_mono():
    stereo = Audio.from_array(np.array([[1.0, 0.0], [0.5, 0.5]], np.float32), 10)
    assert stereo.remixed(1).to_array()[:, 0].tolist() == [0.5, 0.5]
    assert stereo.remixed(1).remixed(2).to_array().tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert stereo.remixed(3).to_array()[:, 2].tolist() == [0, 0]


def test_waveform_peaks_find_the_loud_part():
    samples = np.zeros(10_000, np.float32)
    samples[7_000:7_100] = -0.8
    peaks = waveform_peaks(Audio.from_array(samples, 1000), 10)
    assert peaks.argmax() == 7 and peaks[7] == pytest.approx(0.8) and peaks[:7].max() == 0
