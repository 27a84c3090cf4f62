"Cross-module checks for data (FaceDataset with jitter against batched alignment) and detect (`prepare` output read back by `FaceDataset`)"
import shutil
from pathlib import Path
import numpy as np
import pytest
import torch
from ediffiqa_nb.core import read_image
from ediffiqa_nb.data import celeba_wild, landmarks, align_batch, FaceDataset, read_manifest
from ediffiqa_nb.detect import prepare


@pytest.fixture
def dev(celeba):
    return celeba_wild('dev', root=celeba)


def _tiny_src(dev, tmp_path, n=4):
    src = tmp_path/'src'
    for p in dev.path.iloc[:n]:
        q = src/Path(p).parent.name/Path(p).name
        q.parent.mkdir(parents=True, exist_ok=True); shutil.copy(p, q)
    return src


@pytest.mark.parametrize('margin', [0, 32])
def test_prepare_output_readable_by_facedataset(dev, tmp_path, margin):
    man = prepare(_tiny_src(dev, tmp_path), tmp_path/'dst', workers=0, progress=False, margin=margin)
    assert len(man) == 4 and (tmp_path/'dst'/'manifest.csv').exists()
    man2 = read_manifest(tmp_path/'dst'/'manifest.csv')
    ds = FaceDataset(man2)
    x, y = ds[1]
    assert x.shape == (3, 112, 112) and -1 <= x.min() and x.max() <= 1
    # manifest landmarks are in the saved crop's coordinates: re-aligning reproduces the crop's centre
    crop = read_image(man2.path[1])
    centre = crop[margin:margin+112, margin:margin+112].astype(float)
    assert np.abs(ds.image(1).astype(float) - centre).mean() < 1.0
    # identities survive the round trip
    assert set(man2.identity.astype(str)) == set(Path(p).parent.name for p in dev.path.iloc[:4])


def test_dataset_jitter_matches_batched_alignment(dev):
    sub = dev.iloc[:4]
    ds = FaceDataset(sub, jitter=3.0, seed=7, as_tensor=True)
    ims = torch.stack([torch.from_numpy(read_image(p).copy()).permute(2, 0, 1).float()/127.5 - 1 for p in sub.path])
    lms = np.stack([ds.landmarks_of(i) for i in range(4)])
    assert not np.allclose(lms, landmarks(sub))  # jittered
    xb = align_batch(ims, lms)
    ref = torch.stack([ds[i][0] for i in range(4)])
    assert (xb - ref).abs().mean() * 127.5 < 0.5
