"""UNet inference on the CPU: achieved GFLOP/s of the DDPM UNet against an fp32 matmul peak measured in the same run.

Modes: plain eval (weight standardisation recomputed at every call), frozen weight standardisation, frozen + channels_last
(`Unet.inference()`); outputs of the fast modes are checked against the plain ones. FLOPs are counted by
`unet.unet_flops` (multiply-add = 2). Prints the machine and the command next to the numbers.

Usage: `nice env OMP_NUM_THREADS=1 python bench/bench_unet_cpu.py [--threads 1] [--batch 8] [--reps 3] [--ddpm models/ddpm_tiny_celeba.pt] [--reference]`
"""
import argparse, copy, os, platform, sys, time
import torch


def matmul_peak(n=1024, reps=5):
    "Best fp32 GFLOP/s of an n x n matmul"
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b; best = 0.
    for _ in range(reps):
        t0 = time.perf_counter(); a @ b; dt = time.perf_counter() - t0
        best = max(best, 2 * n ** 3 / dt / 1e9)
    return best


def timed(f, reps):
    "Best wall time of `reps` calls (after one warm-up)"
    f(); best = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter(); f(); best = min(best, time.perf_counter() - t0)
    return best


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): cpu = line.split(':', 1)[1].strip(); break
    except OSError: pass
    try: load = '%.1f' % os.getloadavg()[0]
    except OSError: load = '?'
    return f'{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} thread(s), load average {load}'


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1); ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--reps', type=int, default=3); ap.add_argument('--ddpm', default='models/ddpm_tiny_celeba.pt')
    ap.add_argument('--reference', action='store_true', help='also the reference 142.87 M UNet (batch 1, slow)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from ediffiqa_nb.unet import Unet, unet_flops, count_params
    from ediffiqa_nb.train_ddpm import load_ddpm
    print(f'machine: {machine()}')
    print(f'command: {" ".join([os.path.basename(sys.executable)] + sys.argv)}')
    peak = matmul_peak()
    print(f'fp32 matmul peak (1024^3, best of 5): {peak:.1f} GFLOP/s')
    nets = [(f'bundled DDPM ({a.ddpm})', load_ddpm(a.ddpm, 'cpu').model, a.batch)]
    if a.reference:
        torch.manual_seed(0); nets.append(('reference Unet() (random weights)', Unet().eval(), 1))
    print(f"{'network':44s} {'params':>8s} {'GFLOP/img':>9s} {'batch':>5s} {'mode':28s} {'ms/img':>8s} {'GFLOP/s':>8s} {'of peak':>7s} {'max |diff|':>10s}")
    for name, net, bs in nets:
        gf = unet_flops(net) / 1e9
        x = torch.rand(bs, 3, 112, 112, generator=torch.Generator().manual_seed(0)) * 2 - 1
        t = torch.full((bs,), 5)
        with torch.no_grad():
            ref = net(x, t)
            modes = [('plain eval', net), ('frozen WS', copy.deepcopy(net).inference(channels_last=False)),
                     ('frozen WS + channels_last', copy.deepcopy(net).inference(channels_last=True))]
            for mode, m in modes:
                dt = timed(lambda: m(x, t), a.reps) / bs
                diff = (m(x, t) - ref).abs().max().item()
                print(f'{name:44s} {count_params(net)/1e6:7.2f}M {gf:9.2f} {bs:5d} {mode:28s} {dt*1e3:8.1f} {gf/dt:8.1f} {gf/dt/peak:7.1%} {diff:10.1e}', flush=True)
