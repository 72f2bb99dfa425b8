"""Run ``rtsa-dse`` from a checkout without installing it: ``python cli.py --help``.

The command's code lives in :mod:`dse.cli` (the installed ``rtsa-dse`` entry point); this file is not
installed as a top-level module.
"""

from dse.cli import entry

if __name__ == "__main__":
    entry()
