"""Training throughput of the DDPM: fastai `train_ddpm`-style Learner vs a plain torch loop, in the same run.

CPU: tiny UNet (dim 16) at 112x112; GPU (when available): the reference UNet (dim 128, 142.87 M), fp32 as released
(`train_ddpm`'s default; both loops run without autocast).
Prints images/s for both and the ratio fastai / plain. Usage: `nice python bench/bench_train_ddpm.py [--steps N] [--batch-size B]`
"""
import argparse, time
import torch, torch.nn.functional as F
from fastai.basics import DataLoaders
from ediffiqa_nb.unet import Unet, unet_tiny
from ediffiqa_nb.diffusion import Diffusion
from ediffiqa_nb.train_ddpm import ddpm_learner, DDPMTrainModel, ddpm_loss


class _Synth(torch.utils.data.Dataset):
    n_inp = 2
    def __init__(self, n): g = torch.Generator().manual_seed(0); self.x = torch.rand(n, 3, 112, 112, generator=g) * 2 - 1
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i], self.x[i].flip(-1), self.x[i]


def build(dev, gpu):
    torch.manual_seed(0)
    return Diffusion(Unet() if gpu else unet_tiny()).to(dev)


def plain(dev, gpu, steps, bs, warm):
    dif = build(dev, gpu); m = DDPMTrainModel(dif).train()
    opt = torch.optim.Adam(m.parameters(), lr=8e-5, betas=(0.9, 0.99))
    ds = _Synth(bs * (steps + warm)); dl = torch.utils.data.DataLoader(ds, bs, shuffle=True, drop_last=True)
    t0 = None
    for i, (x, d, y) in enumerate(dl):
        if i == warm:
            if gpu: torch.cuda.synchronize()
            t0 = time.perf_counter()
        x, d, y = x.to(dev), d.to(dev), y.to(dev)
        loss = ddpm_loss(m(x, d), y)
        opt.zero_grad(); loss.backward(); opt.step()
    if gpu: torch.cuda.synchronize()
    return steps * bs / (time.perf_counter() - t0)


def fastai_run(dev, gpu, steps, bs, warm):
    dif = build(dev, gpu)
    ds = _Synth(bs * (steps + warm))
    dls = DataLoaders.from_dsets(ds, _Synth(bs), bs=bs, device=dev, drop_last=True)
    learn = ddpm_learner(dls, dif, eff_batch_size=bs, batch_size=bs)
    times = []
    from fastai.callback.core import Callback
    class _T(Callback):
        def before_batch(self):
            if self.iter == warm:
                if gpu: torch.cuda.synchronize()
                times.append(time.perf_counter())
        def after_epoch(self):
            if gpu: torch.cuda.synchronize()
            times.append(time.perf_counter())
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 8e-5, cbs=_T())
    return steps * bs / (times[-1] - times[0])


if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--steps', type=int, default=None); ap.add_argument('--batch-size', '--bs', dest='batch_size', type=int, default=None)
    a = ap.parse_args()
    devs = [('cpu', False)] + ([('cuda', True)] if torch.cuda.is_available() else [])
    for name, gpu in devs:
        dev = torch.device(name)
        steps = a.steps or (30 if gpu else 4); bs = a.batch_size or (32 if gpu else 8); warm = 3 if gpu else 1
        gpu_ref = gpu  # GPU: reference UNet; CPU: tiny UNet
        p = plain(dev, gpu_ref, steps, bs, warm); f = fastai_run(dev, gpu_ref, steps, bs, warm)
        print(f"{name} ({'reference UNet 142.87 M, fp32' if gpu else 'unet_tiny dim 16'}), bs {bs}, {steps} steps: "
              f"plain torch {p:.1f} img/s, fastai {f:.1f} img/s, ratio fastai/plain {f/p:.2f}")
