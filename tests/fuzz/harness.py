"""Run one fuzz target under atheris (libFuzzer): ``python harness.py TARGET [libFuzzer flags] [corpus dirs]``.

test_fuzz.py starts it in a subprocess with a bounded number of runs and time; libFuzzer exits
non-zero and writes the input (``crash-*``) when a target raises.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
import targets  # noqa: E402


def main() -> None:
    name = sys.argv.pop(1)
    for module in targets.INSTRUMENT[name]:  # coverage feedback from the parsers themselves
        with atheris.instrument_imports(include=[module]):
            importlib.import_module(module)
    one = targets.TARGETS[name]()
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
