#!/usr/bin/env bash
# capture_outputs.sh OUT: the outputs a redesign must leave byte-identical, with their sha256 in OUT.sha
#   - the README's shell path (prepare -> score -> pairs -> evaluate) on 6 identities x 4 celeba-wild dev crops used as photos
#   - `ediffiqa score` (the default model, CPU engine) on every celeba-wild dev crop
#   - the baselines through `ediffiqa score --method` on every 150th train crop
#   - `ediffiqa demo`, and `QualityModel` (the default model, torch) on every dev crop
# Run it at two revisions with the same OUT path (paths are stored in the outputs) and compare the .sha files:
#   bash tools/capture_outputs.sh /tmp/golden/run && mv /tmp/golden/run.sha /tmp/golden/new.sha; diff old.sha new.sha
set -e
REPO=$(cd "$(dirname "$0")/.." && pwd); OUT=$1; B=$REPO/.venv/bin; export OMP_NUM_THREADS=1
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT"
$B/python - <<'PY'
import pandas as pd, shutil
from pathlib import Path
from ediffiqa_nb.core import shared_data
root = shared_data('celeba-wild', required=True); meta = pd.read_csv(root/'meta.csv')
dev = meta[meta.split=='dev']
sub = dev[dev.identity.isin(dev.identity.unique()[:6])].groupby('identity').head(4)
for p in sub.path: (Path('photos')/p).parent.mkdir(parents=True, exist_ok=True); shutil.copy(root/'images'/p, Path('photos')/p)
pd.DataFrame({'path': [str(root/'images'/p) for p in dev.path], 'identity': dev.identity}).to_csv('dev.csv', index=False)
tr = meta[meta.split=='train'].iloc[::150]
pd.DataFrame({'path': [str(root/'images'/p) for p in tr.path], 'identity': tr.identity}).to_csv('train150.csv', index=False)
PY
$B/ediffiqa prepare photos aligned -q
$B/ediffiqa score aligned/manifest.csv -o scores.csv -q
$B/ediffiqa pairs aligned/manifest.csv -o pairs.csv -q
$B/ediffiqa evaluate pairs.csv scores.csv -o pauc.csv --plot edc.png
$B/ediffiqa score dev.csv -o dev_scores.csv -q
for m in embedding-norm flip serfiq; do $B/ediffiqa score train150.csv --method $m -o base_$m.csv -q --device cpu; done
$B/ediffiqa demo > demo.txt 2>&1
$B/python -c "
import pandas as pd, numpy as np
from ediffiqa_nb.core import default_model_path
try: from ediffiqa_nb.quality import QualityModel
except ImportError: from ediffiqa_nb.distill import QualityModel   # before the redesign
d = pd.read_csv('dev.csv'); np.save('qm_dev.npy', np.asarray(QualityModel.load(default_model_path())(d.path.tolist())))"
rm -rf photos aligned/*.png
find . -type f ! -name '*.png' | sort | xargs sha256sum > "$OUT.sha"
echo "wrote $OUT.sha ($(wc -l < "$OUT.sha") files)"
