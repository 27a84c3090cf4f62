"Cross-module checks for data (alignment, FaceDataset, pairs) and detect (detectors, prepare)"
import shutil
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch
from ediffiqa_nb.core import read_image, FaceDataError, shared_data, skip_msg
from ediffiqa_nb.data import (celeba_wild, orl_faces, landmarks, align_face, align_batch, FaceDataset, make_pairs, read_manifest,
                              jitter_landmarks)
from ediffiqa_nb.detect import get_detector, detect_align, prepare


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
    man = prepare(_tiny_src(dev, tmp_path), tmp_path/'dst', n_workers=0, progress=False, margin=margin)
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


def test_detector_alignment_close_to_stored_crop(dev):
    det = get_detector('retinaface')
    errs, diffs, other = [], [], []
    sel = dev.iloc[::120].iloc[:8]
    crops = [read_image(p) for p in sel.path]
    for k, (im, l) in enumerate(zip(crops, landmarks(sel))):
        crop, lms, score = detect_align(im, det)
        errs.append(np.linalg.norm(lms - l, axis=1).mean())
        diffs.append(np.abs(crop.astype(float) - im[32:144, 32:144]).mean())
        other.append(np.abs(crop.astype(float) - crops[(k+1) % len(crops)][32:144, 32:144]).mean())
    print(f'retinaface vs stored: landmark error {np.mean(errs):.2f}px, pixel diff {np.median(diffs):.1f} (other face {np.median(other):.1f})')
    assert np.median(errs) < 4
    assert np.median(diffs) < 0.6 * np.median(other)


def test_dataset_jitter_matches_batched_alignment(dev):
    sub = dev.iloc[:4]
    ds = FaceDataset(sub, jitter=3.0, seed=7, as_tensor=True)
    ims = torch.stack([torch.from_numpy(read_image(p).copy()).permute(2, 0, 1).float()/127.5 - 1 for p in sub.path])
    lms = np.stack([ds.landmarks_of(i) for i in range(4)])
    assert not np.allclose(lms, landmarks(sub))  # jittered
    xb = align_batch(ims, lms)
    ref = torch.stack([ds[i][0] for i in range(4)])
    assert (xb - ref).abs().mean() * 127.5 < 0.5


def test_pairs_over_dataset_targets(dev):
    sub = dev.iloc[:200]
    ds = FaceDataset(sub)
    pairs = make_pairs(pd.DataFrame({'identity': ds.targets}), seed=0, warn=False)
    assert (ds.targets[pairs.i] == ds.targets[pairs.j]).tolist() == pairs.mated.tolist()
    assert pairs.mated.sum() == (~pairs.mated).sum()


def test_orl_needs_alignment(tmp_path):
    if shared_data('orl-faces') is None: pytest.skip(skip_msg('orl-faces'))
    ds = FaceDataset(orl_faces().iloc[:2])
    with pytest.raises(FaceDataError, match='without landmarks'): ds[0]
