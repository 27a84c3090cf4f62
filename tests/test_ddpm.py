"Fast pytest checks of the DDPM stack (unet, diffusion, train_ddpm) against a re-statement of the released code (tests/released_ddpm.py)"
import sys, shutil
from pathlib import Path
import numpy as np, torch, pytest
from torch import nn
from ediffiqa_nb.unet import Unet, unet_tiny, freeze_weight_standardization
from ediffiqa_nb.diffusion import Diffusion, cosine_beta_schedule
from ediffiqa_nb.train_ddpm import EMA, save_ddpm, load_ddpm, infer_unet_config, build_ddpm
from ediffiqa_nb.core import FaceDataError

sys.path.insert(0, str(Path(__file__).parent))
import released_ddpm as R


def test_released_layout_reference():
    "The reference configuration's state-dict keys and shapes equal the released network's"
    with torch.device('meta'): ours, rel = Unet().state_dict(), R.Unet(128).state_dict()
    assert list(ours) == list(rel)
    assert all(ours[k].shape == rel[k].shape for k in rel)
    assert 'downs.0.2.fn.fn.to_qkv.weight' in ours and 'mid_attn.fn.norm.g' in ours


def _perturbed(m, seed):
    "Random init plus non-trivial LayerNorm/GroupNorm gains so that every parameter matters"
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.endswith('.g') or ('norm' in n and p.ndim == 1): p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
    return m


CONFIGS = [dict(dim=16, dim_mults=(1, 2, 4, 4), heads=4, dim_head=8), dict(dim=8, dim_mults=(1, 2), heads=2, dim_head=8),
           dict(dim=16, dim_mults=(1, 2, 4, 8), heads=4, dim_head=32)]


@pytest.mark.parametrize('cfg', CONFIGS)
def test_released_function(cfg):
    "Our Unet with the released weights computes the released function to 1e-5 (plain and in inference mode)"
    torch.manual_seed(0)
    rel = _perturbed(R.Unet(cfg['dim'], cfg['dim_mults'], heads=cfg['heads'], dim_head=cfg['dim_head']), 1).eval()
    ours = Unet(dim=cfg['dim'], dim_mults=cfg['dim_mults'], attn_heads=cfg['heads'], attn_dim_head=cfg['dim_head']).eval()
    ours.load_state_dict(rel.state_dict())            # strict: same keys and shapes
    if cfg['heads'] == 4: assert infer_unet_config(rel.state_dict()) == ours.config   # the head count is not visible in the shapes
    x, t = torch.rand(3, 3, 32, 32) * 2 - 1, torch.tensor([0, 5, 99])
    with torch.no_grad():
        want = rel(x, t)
        torch.testing.assert_close(ours(x, t), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ours.inference()(x, t), want, atol=1e-5, rtol=1e-5)   # frozen WS + channels_last


def _released_ckpt(tmp_path, dim=16, mults=(1, 2, 4, 4)):
    torch.manual_seed(0)
    online = R.GaussianDiffusion(_perturbed(R.Unet(dim, mults, heads=4, dim_head=32), 1)).eval()
    ema = R.GaussianDiffusion(_perturbed(R.Unet(dim, mults, heads=4, dim_head=32), 2)).eval()
    p = tmp_path / 'model.pt'
    torch.save(R.released_checkpoint(online, ema), p)
    return p, online, ema


def test_load_released_checkpoint(tmp_path):
    "The released trainer's checkpoint loads (online and EMA weights) and reproduces the released outputs to 1e-5"
    p, online, ema = _released_ckpt(tmp_path)
    x, t = torch.rand(2, 3, 32, 32) * 2 - 1, torch.tensor([3, 60])
    for weights, ref in (('model', online), ('ema', ema)):
        d = load_ddpm(p, 'cpu', weights=weights)
        assert not d.training and d.T == 1000 and d.model.config['dim_mults'] == (1, 2, 4, 4)
        with torch.no_grad(): torch.testing.assert_close(d.model(x, t), ref.model(x, t), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(d.alphas_cumprod, ref.alphas_cumprod)
    with torch.no_grad(): assert not torch.allclose(load_ddpm(p, 'cpu', weights='ema').model(x, t), online.model(x, t))
    # a bare GaussianDiffusion / Unet state dict in the released layout too
    torch.save(online.state_dict(), tmp_path / 'gd.pt'); torch.save(online.model.state_dict(), tmp_path / 'unet.pt')
    for f in ('gd.pt', 'unet.pt'):
        with torch.no_grad(): torch.testing.assert_close(load_ddpm(tmp_path / f, 'cpu').model(x, t), online.model(x, t), atol=1e-5, rtol=1e-5)


def test_load_errors(tmp_path):
    p, online, _ = _released_ckpt(tmp_path)
    with pytest.raises(ValueError, match="'ema' or 'model'"): load_ddpm(p, 'cpu', weights='online')
    ck = R.released_checkpoint(online, online); ck['model'] = {'model.' + k: v for k, v in list(online.model.state_dict().items())[:-1]}
    torch.save(ck, tmp_path / 'broken.pt')
    with pytest.raises(FaceDataError, match='broken.pt'): load_ddpm(tmp_path / 'broken.pt', 'cpu', weights='model')
    (tmp_path / 'text.pt').write_text('hello')
    with pytest.raises(FaceDataError, match='not a torch file'): load_ddpm(tmp_path / 'text.pt', 'cpu')
    torch.save([1, 2], tmp_path / 'list.pt')
    with pytest.raises(FaceDataError, match='not a DDPM file'): load_ddpm(tmp_path / 'list.pt', 'cpu')


def test_old_toolkit_files_refused(tmp_path):
    "ddpm.pt files of the RMSNorm network (format ediffiqa_nb.ddpm/1 or none) are refused with the reason"
    old_sd = {k.replace('.fn.fn.', '.fn.'): v for k, v in unet_tiny(dim=8, dim_mults=(1, 2)).state_dict().items()}
    for fmt in ('ediffiqa_nb.ddpm/1', None):
        ck = dict(config=dict(unet=dict(dim=8), T=1000, T_prime=100), state_dict=old_sd, step=46)
        if fmt: ck['format'] = fmt
        torch.save(ck, tmp_path / 'old.pt')
        with pytest.raises(FaceDataError, match='cannot be migrated'): load_ddpm(tmp_path / 'old.pt', 'cpu')
    torch.save(old_sd, tmp_path / 'bare_old.pt')
    with pytest.raises(FaceDataError, match='RMSNorm'): load_ddpm(tmp_path / 'bare_old.pt', 'cpu')


def test_cli_scores_with_released_checkpoint(tmp_path, celeba):
    "`ediffiqa score --method diffiqa --ddpm model.pt` runs on the released trainer's checkpoint"
    from PIL import Image
    from ediffiqa_nb.cli import main
    p, _, _ = _released_ckpt(tmp_path, dim=8, mults=(1, 2))
    faces = tmp_path / 'faces'; faces.mkdir()
    for q in sorted((celeba / 'images').rglob('*.jpg'))[:2]: Image.open(q).crop((32, 32, 144, 144)).save(faces / f'{q.parent.name}_{q.name}')
    rc = main([str(a) for a in ('score', faces, '--method', 'diffiqa', '--ddpm', p, '-t', 1, '--repeats', 1, '-q', '-o', tmp_path / 'd.csv', '--device', 'cpu')])
    assert rc == 0
    import pandas as pd
    q = pd.read_csv(tmp_path / 'd.csv').quality
    assert len(q) == 2 and q.notna().all()


def test_ema_matches_released():
    "The EMA callback gives ema_pytorch's value (decay 0.995, every 10, copy up to step 100, warm-up power 2/3)"
    ws = [float(i) for i in range(1, 400)]
    lin, ema = nn.Linear(1, 1, bias=False), EMA()
    ema.ema_model = nn.Linear(1, 1, bias=False)
    for w in ws:
        with torch.no_grad(): lin.weight.fill_(w)
        ema.update(lin)
    want = R.ema_pytorch_updates(ws)
    assert ema.ema_model.weight.item() == pytest.approx(want, rel=1e-6)
    assert want != pytest.approx(ws[-1]) and want != pytest.approx(R.ema_pytorch_updates(ws, update_every=1))


def test_schedule_matches_released():
    d, r = Diffusion(nn.Identity()), R.GaussianDiffusion(_Dummy())
    for k in ('betas', 'alphas_cumprod', 'sqrt_alphas_cumprod', 'sqrt_one_minus_alphas_cumprod'):
        assert torch.equal(getattr(d, k), getattr(r, k)), k


class _Dummy(nn.Module):
    channels, out_dim, self_condition, learned_sinusoidal_cond = 3, 3, False, False


def test_freeze_and_save_roundtrip(tmp_path):
    torch.manual_seed(0)
    net = unet_tiny(dim=8, dim_mults=(1, 2), attn_dim_head=8).eval()
    dif = Diffusion(net)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad(): y = net(x, torch.tensor([1, 7]))
    save_ddpm(dif, tmp_path / 'ddpm.pt', half=False)
    dif2 = load_ddpm(tmp_path / 'ddpm.pt', 'cpu')
    frozen = freeze_weight_standardization(dif2.model)
    with torch.no_grad(): torch.testing.assert_close(frozen(x, torch.tensor([1, 7])), y, atol=1e-5, rtol=1e-5)
    with pytest.raises(FaceDataError, match='online'): load_ddpm(tmp_path / 'ddpm.pt', 'cpu', weights='model')


BUNDLED = Path(__file__).resolve().parents[1] / 'models' / 'ddpm_tiny_celeba.pt'

def test_bundled_inference_mode_same_numbers():
    "The bundled DDPM in inference mode (frozen WS, channels_last) gives its plain outputs to fp32 rounding"
    d = load_ddpm(BUNDLED, 'cpu')
    x, t = torch.rand(2, 3, 112, 112, generator=torch.Generator().manual_seed(0)) * 2 - 1, torch.tensor([5, 40])
    with torch.no_grad():
        want = d.model(x, t)
        torch.testing.assert_close(d.model.inference()(x, t), want, atol=1e-5, rtol=1e-5)


def test_stream_fresh_draws(tmp_path):
    "Each stream sample draws its own flip, d(x), t and noise; the same index gives the same sample, the same image in another epoch does not"
    from PIL import Image
    from ediffiqa_nb.train_ddpm import DDPMDataset
    g = np.random.default_rng(0)
    for i in range(2): Image.fromarray(g.integers(0, 255, (112, 112, 3), dtype=np.uint8)).save(tmp_path / f'{i}.png')
    ds = DDPMDataset(sorted(tmp_path.glob('*.png')), stop=8, shuffle=False, flip=False)
    a, b, c = ds.sample(0), ds.sample(0), ds.sample(2)       # 0 and 2: image 0 in epochs 0 and 1
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert torch.equal(a[0], c[0]) and not torch.equal(a[1], c[1]) and not torch.equal(a[3], c[3])
    late = DDPMDataset(ds.paths, start=2, stop=8, shuffle=False, flip=False)   # a resumed slice starts at its stream position
    assert all(torch.equal(u, v) for u, v in zip(late[0], c))


def test_fastai_adam_is_released_adam():
    "ddpm_learner's optimiser (fastai Adam, mom 0.9, sqr_mom 0.99, eps 1e-8, no decay) makes torch.optim.Adam's steps"
    from functools import partial
    from fastai.optimizer import Adam
    torch.manual_seed(0)
    a = nn.Linear(4, 3); b = nn.Linear(4, 3); b.load_state_dict(a.state_dict()); w0 = a.weight.detach().clone()
    fa = partial(Adam, mom=0.9, sqr_mom=0.99, eps=1e-8, wd=0.)(list(a.parameters()), lr=8e-5)
    ta = torch.optim.Adam(b.parameters(), lr=8e-5, betas=(0.9, 0.99), eps=1e-8)
    for i in range(5):
        x = torch.randn(8, 4)
        for m, o in ((a, fa), (b, ta)):
            o.zero_grad(); m(x).pow(2).mean().backward(); o.step()
    for p, q in zip(a.parameters(), b.parameters()): torch.testing.assert_close(p, q, atol=1e-7, rtol=1e-6)
    assert (a.weight - w0).abs().max() > 1e-4   # the steps did move the weights
