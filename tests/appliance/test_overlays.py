"""The panel's device-tree overlay compiles clean and lands on a base tree."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.hw.panel import DEFAULT_PINS

ROOT = Path(__file__).resolve().parents[2]
OVERLAY = ROOT / "firmware_overlays" / "callbox-panel.dts"
FRAGMENT = ROOT / "firmware_overlays" / "config.txt.fragment"
BASE = Path(__file__).parent / "data" / "panel-base.dts"

needs_dtc = pytest.mark.skipif(
    shutil.which("dtc") is None or shutil.which("fdtoverlay") is None,
    reason="dtc/fdtoverlay (device-tree-compiler) is not installed",
)


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def compile_dts(source: Path, out: Path) -> subprocess.CompletedProcess:
    return run("dtc", "-@", "-I", "dts", "-O", "dtb", "-o", str(out), str(source))


@pytest.fixture
def merged_tree(tmp_path):
    overlay = tmp_path / "callbox-panel.dtbo"
    base = tmp_path / "base.dtb"
    merged = tmp_path / "merged.dtb"
    for source, out in ((OVERLAY, overlay), (BASE, base)):
        result = compile_dts(source, out)
        assert result.returncode == 0 and result.stderr == "", result.stderr
    result = run("fdtoverlay", "-i", str(base), "-o", str(merged), str(overlay))
    assert result.returncode == 0, result.stderr
    result = run("dtc", "-I", "dtb", "-O", "dts", str(merged))
    assert result.returncode == 0, result.stderr
    return result.stdout


def node(tree: str, name: str) -> str:
    """The text of a node's body (nodes here nest at most one level)."""
    match = re.search(rf"\b{re.escape(name)} {{(.*?)\n\t}};", tree, re.S)
    assert match, f"no node {name} in the merged tree"
    return match.group(1)


def child(body: str, name: str) -> str:
    match = re.search(rf"\b{re.escape(name)} {{(.*?)}};", body, re.S)
    assert match, f"no child {name}"
    return match.group(1)


def gpio_phandle(tree: str) -> int:
    gpio = re.search(r"gpio@7e200000 {(.*?)};", tree, re.S).group(1)
    return int(re.search(r"phandle = <(0x[0-9a-f]+|\d+)>", gpio).group(1), 0)


def cells(text: str, prop: str) -> list[int]:
    match = re.search(rf"{prop} = <([^>]*)>;", text)
    assert match, f"no {prop}"
    return [int(c, 0) for c in match.group(1).split()]


@needs_dtc
def test_overlay_compiles_without_warnings(tmp_path):
    result = compile_dts(OVERLAY, tmp_path / "o.dtbo")
    assert result.returncode == 0
    assert result.stderr == "", result.stderr


@needs_dtc
def test_overlay_needs_the_gpio_label_from_the_base(tmp_path):
    # The merge must be able to fail: without a "gpio" label in the base
    # tree the overlay's references cannot resolve.
    base = tmp_path / "nolabel.dts"
    base.write_text(BASE.read_text().replace("gpio: gpio@", "gpio@"))
    assert compile_dts(base, tmp_path / "nolabel.dtb").returncode == 0
    assert compile_dts(OVERLAY, tmp_path / "o.dtbo").returncode == 0
    result = run("fdtoverlay", "-i", str(tmp_path / "nolabel.dtb"), "-o", str(tmp_path / "m.dtb"),
                 str(tmp_path / "o.dtbo"))
    assert result.returncode != 0


@needs_dtc
@pytest.mark.parametrize("led", ["ready", "line", "waiting", "voicemail", "fault"])
def test_leds_land_on_their_pins(merged_tree, led):
    leds = node(merged_tree, "callbox-leds")
    assert 'compatible = "gpio-leds"' in leds
    body = child(leds, led)
    assert cells(body, "gpios") == [gpio_phandle(merged_tree), DEFAULT_PINS[led], 0]
    assert 'default-state = "off"' in body
    assert f'label = "callbox:{led}"' in body


@needs_dtc
def test_fault_led_is_left_to_callbox(merged_tree):
    fault = child(node(merged_tree, "callbox-leds"), "fault")
    assert 'linux,default-trigger = "none"' in fault


@needs_dtc
@pytest.mark.parametrize("button, code", [("night", 148), ("reset", 149), ("status", 358)])
def test_keys_land_on_their_pins_active_low_with_pull_up(merged_tree, button, code):
    keys = node(merged_tree, "callbox-keys")
    assert 'compatible = "gpio-keys"' in keys
    body = child(keys, button)
    assert cells(body, "gpios") == [gpio_phandle(merged_tree), DEFAULT_PINS[button], 0x11]
    assert cells(body, "linux,code") == [code]
    assert cells(body, "debounce-interval")[0] > 0


def test_config_fragment_enables_watchdog_and_uart_and_names_the_panel():
    text = FRAGMENT.read_text().splitlines()
    lines = {line.strip() for line in text if not line.startswith("#")}
    assert {"dtparam=watchdog=on", "enable_uart=1"} <= lines
    # The overlay line is there to switch on, but off: the rpi-gpio backend
    # needs the pins the kernel drivers would claim (docs/front-panel.md).
    assert "#dtoverlay=callbox-panel" in {line.strip() for line in text}
    assert "dtoverlay=callbox-panel" not in lines
    assert FRAGMENT.read_text().rstrip().splitlines()[-1].strip() != "[pi4]", "a conditional section left open"
