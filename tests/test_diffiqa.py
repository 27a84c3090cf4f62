"Cross-module checks of ediffiqa_nb.diffiqa: real images on disk through the crop loader, the batch engine's failures, recipes through score_dataset, the moved names"
import warnings
import numpy as np, pandas as pd, pytest, torch
import torch.nn as nn, torch.nn.functional as F
from PIL import Image
from ediffiqa_nb.diffiqa import diffiqa_scores, score_dataset, DifFIQARecipe, load_face
from ediffiqa_nb.diffusion import Diffusion
from ediffiqa_nb.score import score_images, BASELINE_METHODS
from ediffiqa_nb.quality import score_faces, load_quality_model
import ediffiqa_nb.diffiqa as diffiqa

torch.set_num_threads(1)


class TinyDenoiser(nn.Module):
    def __init__(self):
        super().__init__(); self.a = nn.Conv2d(3, 3, 3, padding=1); self.emb = nn.Embedding(1000, 3)
    def forward(self, x, t): return x + 0.3 * torch.tanh(self.a(x) + self.emb(t)[:, :, None, None])

class TinyFR(nn.Module):
    def __init__(self):
        super().__init__(); self.c = nn.Conv2d(3, 8, 5, stride=4); self.l = nn.Linear(8*27*27, 16)
    def forward(self, x): return self.l(F.relu(self.c(x)).flatten(1))


@pytest.fixture(scope='module')
def models():
    torch.manual_seed(0)
    return Diffusion(TinyDenoiser()).eval(), TinyFR().eval()

@pytest.fixture(scope='module')
def faces(tmp_path_factory):
    d = tmp_path_factory.mktemp('faces'); r = np.random.default_rng(0)
    for i in range(7):
        (d/f'p{i%2}').mkdir(exist_ok=True)
        # 176x176 celeba-wild style crops: the scorer cuts the central 112x112
        Image.fromarray(r.integers(0, 255, (176, 176, 3), dtype=np.uint8)).save(d/f'p{i%2}'/f'{i}.jpg', quality=95)
    return sorted(str(p) for p in d.rglob('*.jpg'))


def test_paths_score_as_their_crops_in_any_batch_and_order(models, faces):
    "JPEG crops on disk score exactly as their loaded 112x112 crops, independent of batch size and order"
    ddpm, fr = models
    base = diffiqa_scores(faces, ddpm, fr, repeats=2, eta=1., device='cpu', batch_size=7)
    np.testing.assert_array_equal(diffiqa_scores(np.stack([load_face(p) for p in faces]), ddpm, fr, repeats=2, eta=1., device='cpu'), base)
    np.testing.assert_array_equal(diffiqa_scores(faces, ddpm, fr, repeats=2, eta=1., device='cpu', batch_size=2), base)
    perm = [3, 6, 0, 1, 5, 2, 4]
    np.testing.assert_array_equal(diffiqa_scores([faces[i] for i in perm], ddpm, fr, repeats=2, eta=1., device='cpu', batch_size=3), base[perm])


def test_runner_records_bad_faces(models, faces, tmp_path):
    "A face that cannot be read is a recorded failure, not a crash; the others are scored exactly as without it"
    ddpm, fr = models
    bad = tmp_path/'p0'/'bad.jpg'; bad.parent.mkdir(); bad.write_text('not an image')
    res = score_dataset(faces + [str(bad)], ddpm, fr, out=tmp_path/'b.parquet', repeats=1, device='cpu', progress=False, shard_size=3)
    ref = score_dataset(faces, ddpm, fr, out=tmp_path/'ref.parquet', repeats=1, device='cpu', progress=False, shard_size=5)
    pd.testing.assert_frame_equal(res, ref)
    f = pd.read_csv(tmp_path/'b.failed.csv')
    assert f.path.tolist() == [str(bad)] and 'not a valid image file' in f.reason[0]


def test_recipe_through_score_dataset(models, faces, tmp_path):
    "A recipe passed to score_dataset reaches diffiqa_scores: the same table as the same settings by keyword"
    ddpm, fr = models
    kw = dict(device='cpu', progress=False)
    by_kw = score_dataset(faces[:3], ddpm, fr, out=tmp_path/'kw.parquet', repeats=1, t=3, eta=1., **kw)
    by_recipe = score_dataset(faces[:3], ddpm, fr, out=tmp_path/'r.parquet', recipe=DifFIQARecipe(repeats=1, t=3, eta=1.), **kw)
    pd.testing.assert_frame_equal(by_recipe, by_kw)
    with pytest.raises(ValueError, match='needs a seed'):
        score_dataset(faces[:1], ddpm, fr, out=tmp_path/'q.parquet', recipe=DifFIQARecipe(seed=None, reference_quirks=True), **kw)


def test_repeats_keeps_the_stored_settings(models, faces, tmp_path, monkeypatch):
    "`repeats` (and the old keyword `n`) key a score_dataset run by the same settings dict as before the rename: stored key `n`"
    ddpm, fr = models; seen = []
    run_batch = diffiqa.run_batch
    def spy(*a, **kw): seen.append(kw['settings']); return run_batch(*a, **kw)
    monkeypatch.setattr(diffiqa, 'run_batch', spy)
    kw = dict(device='cpu', progress=False)
    new = score_dataset(faces[:2], ddpm, fr, out=tmp_path/'new.parquet', repeats=2, **kw)
    with pytest.warns(DeprecationWarning, match='use `repeats`'):
        old = score_dataset(faces[:2], ddpm, fr, out=tmp_path/'old.parquet', n=2, **kw)
    pd.testing.assert_frame_equal(new, old)
    fp = diffiqa.model_fingerprint
    assert seen[0] == seen[1] == dict(job='diffiqa', ddpm=fp(ddpm.model), fr=fp(fr), noise_key='content', n='2'), seen
    score_dataset(faces[:2], ddpm, fr, out=tmp_path/'rec.parquet', recipe=DifFIQARecipe(repeats=2), **kw)
    assert seen[2]['recipe'] == 'DifFIQARecipe(t=5, n=2, steps=None, flip=True, eta=None, seed=0, reference_quirks=False)', seen[2]
    with pytest.raises(TypeError, match="'n' and its new name 'repeats'"):
        score_dataset(faces[:2], ddpm, fr, out=tmp_path/'both.parquet', n=2, repeats=2, **kw)


def test_moved_names_are_the_new_homes():
    "The deprecated aliases in diffiqa warn and are the objects of their new homes (which this file imports directly)"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        old = [diffiqa.score_images, diffiqa.BASELINE_METHODS, diffiqa.score_faces, diffiqa.load_quality_model]
    assert old == [score_images, BASELINE_METHODS, score_faces, load_quality_model]
    assert [type(x.message) for x in w] == [DeprecationWarning] * 4, [str(x.message) for x in w]
