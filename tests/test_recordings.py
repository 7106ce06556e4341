"""Recordings kept small on the SD card: finished ones become Opus, and their call records follow."""

from __future__ import annotations

import pytest

from tests.peers.audio import write_sine
from tests.test_privacy import add_call, core  # noqa: F401 - the fixture


def test_finished_recordings_are_compressed_and_their_records_follow(core, tmp_path):
    import shutil
    import subprocess
    import time as _time
    if shutil.which("opusenc") is None:
        pytest.skip("opus-tools is not installed")
    add_call(core, "c9", "+48601234567", recording=True)
    wav = core.data_dir / "recordings" / "c9.wav"
    write_sine(wav, 440, 3.0)
    size = wav.stat().st_size
    assert core.recordings.compress_pending(now=_time.time() + 120) == 1
    opus = core.data_dir / "recordings" / "c9.opus"
    assert opus.exists() and not wav.exists() and opus.stat().st_size < size / 4
    assert core.call_records.query(None, None, limit=None)[0]["recording"] == "recordings/c9.opus"
    decoded = tmp_path / "back.wav"
    subprocess.run(["opusdec", "--quiet", "--rate", "8000", str(opus), str(decoded)], check=True)
    from tests.peers.audio import tone_present
    assert tone_present(decoded, 440, start_s=0.5)
