"""The accelerator registry (dse/accelerators/__init__.py) and plugin files (dse/plugins.py), in process.

Every test removes what it registered, so other test modules see only the built-in accelerators.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from dse import accelerators, plugins
from dse.accelerators import Accelerator
from dse.errors import InputError

BUILTIN = ("rtsa", "rtsa-split", "systolic", "windowed", "vitcod", "heatvit", "cpu", "gpu")

PLUGIN = """
from dse.accelerators import register
from dse.accelerators.rtsa import RTSA


@register
class Twin(RTSA):
    name = "{name}"
    description = "RTSA under another name (test plugin)"
"""


@pytest.fixture
def cleanup():
    """Names to unregister and plugin files to forget after the test."""
    names: list[str] = []
    yield names
    for n in names:
        accelerators.unregister(n)
    for path in list(plugins._LOADED):
        if path.name.startswith("plug_"):
            sys.modules.pop(plugins._LOADED.pop(path).module.__name__, None)


def _file(tmp_path: Path, stem: str, text: str) -> Path:
    path = tmp_path / f"plug_{stem}.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_builtins_are_found_without_a_list():
    assert set(BUILTIN) <= set(accelerators.names())
    rows = {e.name: e for e in accelerators.entries()}
    assert rows["rtsa"].origin == accelerators.BUILTIN and rows["rtsa"].plugin_file is None
    assert accelerators.get("vitcod") is rows["vitcod"].accelerator


def test_unknown_name_lists_the_names_and_says_how_to_add_one():
    with pytest.raises(InputError) as err:
        accelerators.get("nope")
    assert err.value.field == "accelerator"
    assert "rtsa" in str(err.value) and "--plugin" in str(err.value)


def test_register_works_as_a_class_decorator(cleanup):
    cleanup.append("toy-reg")

    class Toy(Accelerator):
        name = "toy-reg"

    assert accelerators.register(Toy) is Toy  # the class stays usable as a class
    assert isinstance(accelerators.get("toy-reg"), Toy)
    assert accelerators.origin("toy-reg") == accelerators.RUNTIME
    accelerators.register(Toy)  # the same class again: a no-op
    assert accelerators.names().count("toy-reg") == 1


def test_a_plugin_file_registers_and_is_loaded_once(tmp_path, cleanup):
    cleanup.append("twin")
    path = _file(tmp_path, "twin", PLUGIN.format(name="twin"))
    plugin = plugins.load_file(path)
    assert plugin.registered == {"accelerator": ["twin"]}
    assert accelerators.origin("twin") == f"plugin {path.resolve()}"
    assert accelerators.entries()[-1].plugin_file == str(path.resolve())
    assert plugins.load_file(path) is plugin  # once per process
    assert str(path.resolve()) in plugins.loaded_files()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PLUGIN.format(name="rtsa"), "already exists (built-in)"),
        ("x = 1\n", "registered nothing"),
        ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
        ("from dse.accelerators import register\nregister(42)\n", "takes an Accelerator"),
        ("from dse.accelerators import register, Accelerator\nregister(Accelerator())\n", "needs a name"),
    ],
)
def test_bad_plugin_files_are_one_line_input_errors(tmp_path, cleanup, text, message):
    path = _file(tmp_path, "bad", text)
    with pytest.raises(InputError) as err:
        plugins.load_file(path)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert accelerators.get("rtsa").__class__.__name__ == "RTSA"  # the built-in is untouched


def test_missing_or_non_python_plugin_file(tmp_path):
    with pytest.raises(InputError, match="--plugin: plugin file not found"):
        plugins.load_file(tmp_path / "none.py")
    other = tmp_path / "plug.txt"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="a Python file"):
        plugins.load_file(other)


def test_two_files_cannot_take_one_name(tmp_path, cleanup):
    cleanup.append("twin2")
    plugins.load_file(_file(tmp_path, "a", PLUGIN.format(name="twin2")))
    with pytest.raises(InputError, match="already exists"):
        plugins.load_file(_file(tmp_path, "b", PLUGIN.format(name="twin2")))


def test_a_recorded_plugin_that_moved_says_so(tmp_path):
    with pytest.raises(InputError, match="pass --plugin"):
        plugins.load_recorded([str(tmp_path / "gone.py")])
