"Cross-module checks of ediffiqa_nb.diffiqa: real Diffusion schedule, real images on disk, runner resume, batch invariance"
import numpy as np, pandas as pd, pytest, torch
import torch.nn as nn, torch.nn.functional as F
from PIL import Image
from ediffiqa_nb.diffiqa import diffiqa_scores, score_dataset, ddim_reverse, default_pairs, TERMS
from ediffiqa_nb.batch import state_dir
from ediffiqa_nb.diffusion import Diffusion
from ediffiqa_nb.core import torch_rng

torch.set_num_threads(1)


class TinyDenoiser(nn.Module):
    def __init__(self):
        super().__init__(); self.a = nn.Conv2d(3, 3, 3, padding=1); self.emb = nn.Embedding(1000, 3)
    def forward(self, x, t): return x + 0.3 * torch.tanh(self.a(x) + self.emb(t)[:, :, None, None])

class TinyFR(nn.Module):
    def __init__(self):
        super().__init__(); self.c = nn.Conv2d(3, 8, 5, stride=4); self.l = nn.Linear(8*27*27, 16)
    def forward(self, x): return self.l(F.relu(self.c(x)).flatten(1))

class Crash(nn.Module):
    "FR that raises KeyboardInterrupt on its k-th call"
    def __init__(self, m, k): super().__init__(); self.m, self.k, self.calls = m, k, 0
    def forward(self, x):
        self.calls += 1
        if self.calls == self.k: raise KeyboardInterrupt
        return self.m(x)


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


def test_default_steps_match_diffusion_reverse(models):
    ddpm, _ = models
    x = torch.rand(2, 3, 112, 112, generator=torch_rng(0)) * 2 - 1
    xt = ddpm.q_sample(x, 5, generator=torch_rng(1))
    with torch.no_grad():
        a = ddim_reverse(ddpm.model, ddpm.alphas_cumprod, xt, default_pairs(5))
        b = ddpm.reverse(xt, 5)
    assert (a - b).abs().max().item() < 1e-4


def test_batch_size_and_order_invariance(models, faces):
    ddpm, fr = models
    base = diffiqa_scores(faces, ddpm, fr, n=2, eta=1., device='cpu', batch_size=7)
    assert base.dtype == np.float32 and base.shape == (7,)
    np.testing.assert_array_equal(diffiqa_scores(faces, ddpm, fr, n=2, eta=1., device='cpu', batch_size=2), base)
    perm = [3, 6, 0, 1, 5, 2, 4]
    np.testing.assert_array_equal(diffiqa_scores([faces[i] for i in perm], ddpm, fr, n=2, eta=1., device='cpu', batch_size=3), base[perm])
    fast = diffiqa_scores(faces, ddpm, fr, n=2, eta=1., device='cpu', fast=True, batch_size=4, unet_batch=6)
    np.testing.assert_allclose(fast, base, atol=1e-6)


def test_reference_quirks_unet_calls(models, faces):
    ddpm, fr = models
    calls = []
    orig = ddpm.model.forward
    ddpm.model.forward = lambda x, t: (calls.append(1), orig(x, t))[1]
    try: diffiqa_scores(faces[:3], ddpm, fr, t=5, n=2, reference_quirks=True, seed=0, device='cpu')
    finally: del ddpm.model.forward
    assert len(calls) == 6


def test_runner_interrupt_resume(models, faces, tmp_path):
    ddpm, fr = models
    kw = dict(n=1, device='cpu', progress=False, shard_size=2)
    full = score_dataset(faces, ddpm, fr, out=tmp_path/'full.parquet', **kw)
    assert list(full.columns) == ['path', 'identity', 'score', *TERMS] and list(full.path) == faces
    with pytest.raises(KeyboardInterrupt): score_dataset(faces, ddpm, Crash(fr, 8), out=tmp_path/'r.parquet', **kw)  # 3 FR calls/image
    assert not (tmp_path/'r.parquet').exists()
    assert len(list(state_dir(tmp_path/'r.parquet').glob('run-*/part-*.pkl'))) == 1
    again = score_dataset(faces, ddpm, fr, out=tmp_path/'r.parquet', **kw)
    pd.testing.assert_frame_equal(again, full)
    assert (tmp_path/'r.parquet').read_bytes() == (tmp_path/'full.parquet').read_bytes()
    # two ranks, one after the other: the second to finish merges, the first returns None
    assert score_dataset(faces, ddpm, fr, out=tmp_path/'m.parquet', rank=1, world_size=2, **kw) is None
    pd.testing.assert_frame_equal(score_dataset(faces, ddpm, fr, out=tmp_path/'m.parquet', rank=0, world_size=2, **kw), full)
    assert (tmp_path/'m.parquet').read_bytes() == (tmp_path/'full.parquet').read_bytes()


def test_runner_records_bad_faces(models, faces, tmp_path):
    "A face that cannot be read is a recorded failure, not a crash; the others are scored exactly as without it"
    ddpm, fr = models
    bad = tmp_path/'p0'/'bad.jpg'; bad.parent.mkdir(); bad.write_text('not an image')
    res = score_dataset(faces + [str(bad)], ddpm, fr, out=tmp_path/'b.parquet', n=1, device='cpu', progress=False, shard_size=3)
    ref = score_dataset(faces, ddpm, fr, out=tmp_path/'ref.parquet', n=1, device='cpu', progress=False, shard_size=5)
    pd.testing.assert_frame_equal(res, ref)
    f = pd.read_csv(tmp_path/'b.failed.csv')
    assert f.path.tolist() == [str(bad)] and 'not a valid image file' in f.reason[0]
