import os, sys, subprocess
from pathlib import Path
import pytest
from ediffiqa_nb.core import shared_data, skip_msg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

@pytest.fixture
def run_cli():
    "Run the installed `ediffiqa` console script; returns the CompletedProcess"
    def _run(*args, cwd=None, timeout=600, env=None):
        exe = BIN/'ediffiqa'
        cmd = [str(exe), *map(str, args)] if exe.exists() else [sys.executable, '-c', 'from ediffiqa_nb.cli import run; run()', *map(str, args)]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or ROOT, timeout=timeout, env={**os.environ, **(env or {})})
    return _run

@pytest.fixture
def celeba():
    "The celeba-wild folder; the test skips with `core.skip_msg` (counted as a data skip by `ediffiqa_test`) without it"
    p = shared_data('celeba-wild')
    if p is None: pytest.skip(skip_msg('celeba-wild'))
    return p
