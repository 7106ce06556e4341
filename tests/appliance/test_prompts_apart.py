"""The core's built-in prompts are made by a child process, whose log lines the core logs as its own."""

from __future__ import annotations

import logging
import shutil

import pytest

from appliance.prompts import make_builtin_prompts_apart, prompt_dest
from appliance.prompts.speech import _log_again


def test_the_child_logs_through_the_parent(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="callbox")
    assert make_builtin_prompts_apart(tmp_path, ("en",)) == 0
    said = [r for r in caplog.records if r.name == "callbox.prompts"]
    assert said, "the child's log lines reach the core's log"
    if shutil.which("espeak-ng") and shutil.which("sox"):
        assert prompt_dest(tmp_path, "agent-number", "en").exists()
        assert any("making" in r.getMessage() for r in said)
    # A second run finds them all: nothing to make, nothing said about making.
    caplog.clear()
    assert make_builtin_prompts_apart(tmp_path, ("en",)) == 0
    assert not any("making" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("line, name, level, message", [
    ("WARNING callbox.prompts: built-in prompt en/x not made: no sox", "callbox.prompts", logging.WARNING,
     "built-in prompt en/x not made: no sox"),
    ("INFO callbox.prompts: making 3 built-in prompts", "callbox.prompts", logging.INFO, "making 3 built-in prompts"),
    ("Traceback (most recent call last):", "callbox.prompts", logging.WARNING, "Traceback (most recent call last):"),
])
def test_a_line_of_the_child_is_logged_with_its_level(caplog, line, name, level, message):
    caplog.set_level(logging.DEBUG, logger="callbox")
    _log_again(line)
    (record,) = caplog.records
    assert (record.name, record.levelno, record.getMessage()) == (name, level, message)


def test_the_child_ends_when_the_core_does(tmp_path):
    import subprocess
    import sys
    import time
    child = subprocess.Popen([sys.executable, "-m", "appliance.prompts", "--with-parent", str(tmp_path),
                              "en", "pl", "zh"], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    began = time.monotonic()
    child.stdin.close()  # as when the core's process ends
    assert child.wait(timeout=10) == 0
    assert time.monotonic() - began < 3
    if shutil.which("espeak-ng") and shutil.which("sox"):
        assert len(list(tmp_path.glob("*/*.wav"))) < 78  # cut short, not finished
