"""DifFIQA throughput: the released-style loop vs the fast path, same model and images, one run.

    python bench/bench_diffiqa.py                      # CPU, small UNet (default)
    python bench/bench_diffiqa.py --device cuda        # GPU, the reference UNet (143M parameters), n=10

Released-style: batches of 3 images, fp32, noise at index t / 6 UNet calls at t=5 (eta 1), originals embedded n times
(`diffiqa_scores(reference_quirks=True)`). Fast path: many images per batch, all flips and repeats in one batched reverse
process, originals embedded once, bf16 autocast + channels_last on CUDA (`fast=True`), optional torch.compile.
Prints ms/image for both and the ratio.
"""
import argparse, time, os
import numpy as np
import torch


def _images(k:int):
    "k real celeba-wild dev faces when the shared data is here, else random faces (timing does not depend on content)"
    from ediffiqa_nb.core import shared_data
    from ediffiqa_nb.diffiqa import load_face
    root = shared_data('celeba-wild')
    if root is None: return torch.rand(k, 3, 112, 112, generator=torch.Generator().manual_seed(0)) * 2 - 1, 'random'
    from ediffiqa_nb.data import celeba_wild
    from ediffiqa_nb.core import img2tensor
    df = celeba_wild('dev').iloc[:k]
    return img2tensor([load_face(p) for p in df.path]), 'celeba-wild dev'


def _fr(device):
    try:
        from ediffiqa_nb.fr import load_sface
        return load_sface(device=device), 'SFace'
    except Exception as e:  # no SFace weights on this machine
        print('SFace unavailable, using a tiny CNN:', e)
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 5, 4), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(16*27*27, 128))
        return net.to(device), 'tiny CNN'


def _sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


def _time(fn, device, reps:int=1):
    fn(); _sync(device)  # warm-up (kernels, autotuning, compile)
    t0 = time.perf_counter()
    for _ in range(reps): out = fn()
    _sync(device)
    return (time.perf_counter() - t0) / reps, out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu', help='cpu or cuda')
    p.add_argument('--images', type=int, default=None, help='images to score (default 3 on CPU, 96 on CUDA)')
    p.add_argument('--repeats', '--n', dest='repeats', type=int, default=None, help="repeats, the paper's n (default 2 on CPU, 10 on CUDA)")
    p.add_argument('--t', type=int, default=5)
    p.add_argument('--batch', type=int, default=64, help='images per fast-path batch')
    p.add_argument('--unet-batch', type=int, default=640, help='UNet micro-batch (copies) on the fast path')
    p.add_argument('--compile', action='store_true', help='torch.compile the UNet on the fast path')
    p.add_argument('--threads', type=int, default=None, help='CPU threads (default: torch default)')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from ediffiqa_nb.unet import Unet, unet_tiny, count_params
    from ediffiqa_nb.diffusion import Diffusion
    from ediffiqa_nb.diffiqa import diffiqa_scores
    from scipy.stats import spearmanr
    device = torch.device(a.device)
    cuda = device.type == 'cuda'
    n = a.repeats or (10 if cuda else 2)
    k = a.images or (96 if cuda else 3)
    torch.manual_seed(0)
    net = Unet() if cuda else unet_tiny(dim=8, dim_mults=(1, 2), attn_heads=2, attn_dim_head=8)
    ddpm = Diffusion(net).to(device).eval()
    fr, fr_name = _fr(device)
    x, src = _images(k)
    print(f'device {device} ({torch.cuda.get_device_name() if cuda else os.cpu_count()} {"" if cuda else "cores"}), '
          f'UNet {count_params(net)/1e6:.2f}M params, FR {fr_name}, {k} {src} images, t={a.t}, n={n}, torch threads {torch.get_num_threads()}')
    ref_t, ref = _time(lambda: diffiqa_scores(x, ddpm, fr, t=a.t, repeats=n, seed=0, reference_quirks=True, batch_size=3, fast=False,
                                              dtype=torch.float32, device=device), device)
    fast_t, fast = _time(lambda: diffiqa_scores(x, ddpm, fr, t=a.t, repeats=n, seed=0, fast=True, batch_size=a.batch, unet_batch=a.unet_batch,
                                                compile=a.compile, device=device), device)
    ms_ref, ms_fast = 1000 * ref_t / k, 1000 * fast_t / k
    print(f'released-style loop (3 img/batch, fp32, {a.t+1} UNet calls, originals x n): {ms_ref:9.1f} ms/image')
    print(f'fast path (batch {a.batch}, {"bf16 autocast, channels_last" if cuda else "fp32"}{", compiled" if a.compile else ""}, '
          f'{a.t} UNet calls, originals once): {ms_fast:9.1f} ms/image')
    print(f'speed-up: {ms_ref / ms_fast:.2f}x')
    if k >= 3: print(f'Spearman(fast, released-style) = {spearmanr(fast, ref)[0]:.3f} over {k} images (untrained UNet: ranks are noise-level only)')


if __name__ == '__main__': main()
