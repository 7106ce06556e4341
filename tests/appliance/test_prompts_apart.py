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
