"""CPU scoring end to end: the OpenCV-zoo style loop vs the toolkit, same images, same ONNX export, one run.

    nice .venv/bin/python bench/bench_cpu_scoring.py --n 1000 --json out.json

Every measured program runs in a fresh process (wall time includes interpreter start, imports and model loading;
peak RSS is that process's VmHWM):
  zoo      per image: cv2.imread, centre crop, cv2.dnn.blobFromImage, cv2.dnn forward of the toolkit's ONNX export
  toolkit  ediffiqa_nb.infer.score_aligned(paths, margin=32) (default engine), results written to a csv: wall time and
           peak RSS of that process; start-up and steady-state images/s from a second process that times its phases
  cli      `ediffiqa score FOLDER --margin 32 -o out.csv` (the resumable batch engine + the default infer engine;
           --no-cli to leave it out), in the same alternating rounds: the done-when ratio is this one
  photos   ediffiqa_nb.infer.score_photos on synthetic 640x480 and 1920x1080 photos (celeba-wild crops pasted onto a
           smooth random background), next to the detector's own cost (RetinaFace forward only) and `align_photos`
           (detection + alignment, what `prepare` does before writing files); on 640x480 also `ediffiqa score --detect`
           (the CLI: RetinaFace, alignment and scoring in the engine's slots, inside the batch engine; start-up included)
           and `detect.prepare` (the same detector in one single-thread call per core, writing PNGs and the manifest)
  profile  the default engine's network on one core (OpenVINO bf16, PERF_COUNT): time by kernel, and the GFLOP/s of its
           1x1 convolutions next to numpy's fp32 matmul on one core (--no-profile to leave it out)
  unet     DifFIQA's UNet on CPU: fp32 matmul peak, and the small UNet's achieved GFLOP/s eager, with frozen weight
           standardisation, with channels_last, and bf16 autocast, all in the same child
Images: the first N celeba-wild train+dev crops (176x176, margin 32), symlinked into a temporary folder.
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(code:str, args:list, threads:int) -> dict:
    "Run `code` in a fresh python; its last stdout line is JSON; adds wall_s (incl. start-up) and peak_rss_mb"
    env = {**os.environ, 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', ''), 'OMP_NUM_THREADS': str(threads)}
    with tempfile.TemporaryFile('w+') as fo, tempfile.TemporaryFile('w+') as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, '-c', code, *map(str, args)], stdout=fo, stderr=fe, env=env, text=True)
        _, status, ru = os.wait4(p.pid, 0)   # this child's own rusage (peak RSS)
        wall = time.perf_counter() - t0; p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0); fe.seek(0); out, err = fo.read(), fe.read()
    if p.returncode != 0 or not out.strip():
        raise RuntimeError(f'child failed ({p.returncode}):\n{err[-3000:]}')
    r = json.loads(out.strip().splitlines()[-1])
    r['wall_s'] = wall
    return r


# each child prints one JSON line (with its own peak RSS: VmHWM counts only the memory of this program, while rusage's
# maxrss also counts the parent's pages the child had between fork and exec)
HWM = "\ndef _hwm():\n    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024\n"
ZOO = HWM + r'''
import sys, time, json; t0 = time.perf_counter()
import cv2, numpy as np
onnx, lst, out = sys.argv[1:4]
paths = open(lst).read().split('\n')
net = cv2.dnn.readNetFromONNX(onnx); t_ready = time.perf_counter()
q = np.empty(len(paths), np.float32); t_warm = None
for k, p in enumerate(paths):
    img = cv2.imread(p)[32:144, 32:144]
    net.setInput(cv2.dnn.blobFromImage(img, 1/127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True))
    q[k] = net.forward('quality').ravel()[0]
    if k == 19: t_warm = time.perf_counter()
t_end = time.perf_counter(); np.save(out, q)
print(json.dumps(dict(peak_rss_mb=_hwm(), startup_s=t_ready - t0, steady_ips=(len(paths) - 20) / (t_end - t_warm), n=len(paths), cv2_threads=cv2.getNumThreads())))
'''

TOOLKIT = HWM + r'''
import sys, time, json; t0 = time.perf_counter()
from ediffiqa_nb.infer import score_aligned, get_engine, auto_engine, cpu_threads
lst, out, engine = sys.argv[1:4]
paths = open(lst).read().split('\n')
e = get_engine(engine); t_ready = time.perf_counter()
q = score_aligned(paths[:64], margin=32, engine=engine); t_warm = time.perf_counter()
q = score_aligned(paths, margin=32, engine=engine); t_end = time.perf_counter()
import numpy as np; np.save(out, q)
with open(out + '.csv', 'w') as f: f.write('path,quality\n' + ''.join(f'{p},{v}\n' for p, v in zip(paths, q)))
print(json.dumps(dict(peak_rss_mb=_hwm(), startup_s=t_ready - t0, steady_ips=len(paths) / (t_end - t_warm), engine=repr(e), n=len(paths),
                      torch_imported='torch' in sys.modules)))
'''

TOOLKIT_ONCE = HWM + r'''
import sys, time, json; t0 = time.perf_counter()
from ediffiqa_nb.infer import score_aligned
lst, out, engine = sys.argv[1:4]
paths = open(lst).read().split('\n')
q = score_aligned(paths, margin=32, engine=engine)
with open(out, 'w') as f: f.write('path,quality\n' + ''.join(f'{p},{v}\n' for p, v in zip(paths, q)))
print(json.dumps(dict(peak_rss_mb=_hwm(), n=len(paths), torch_imported='torch' in sys.modules)))
'''

CLI = HWM + r'''
import sys, json
from ediffiqa_nb.cli import main
folder, out = sys.argv[1:3]
rc = main(['score', folder, '--margin', '32', '-o', out, '-q'])
print(json.dumps(dict(peak_rss_mb=_hwm(), rc=rc)))
'''

PHOTOS = HWM + r'''
import sys, time, json; t0 = time.perf_counter()
from ediffiqa_nb.infer import score_photos, get_engine
from ediffiqa_nb.detect import FaceFinder
lst, engine = sys.argv[1:3]
paths = open(lst).read().split('\n')
ff = FaceFinder(); get_engine(engine); t_ready = time.perf_counter()
df = score_photos(paths, engine=engine, finder=ff); t_end = time.perf_counter()
print(json.dumps(dict(peak_rss_mb=_hwm(), startup_s=t_ready - t0, ips=len(paths) / (t_end - t_ready), n=len(paths),
                      found=int(df.quality.notna().sum()), torch_imported='torch' in sys.modules)))
'''

PHOTO_PARTS = HWM + r'''
import sys, time, json
import numpy as np, cv2, concurrent.futures as cf
from ediffiqa_nb.infer import align_photos, cpu_threads
from ediffiqa_nb.detect import FaceFinder
lst = sys.argv[1]
paths = open(lst).read().split('\n')
ff = FaceFinder(); align_photos(paths[:4], finder=ff)
t = time.perf_counter(); crops, lms, sc, err = align_photos(paths, finder=ff); t_align = time.perf_counter() - t
def det_input(p):
    img = cv2.imread(p); s = 1.0
    if ff.max_side and max(img.shape[:2]) > ff.max_side:
        s = ff.max_side / max(img.shape[:2]); img = cv2.resize(img, (round(img.shape[1]*s), round(img.shape[0]*s)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray((img.astype(np.float32) - np.float32([104, 117, 127])).transpose(2, 0, 1)[None])
xs = [det_input(p) for p in paths[:8]]
t = time.perf_counter()
with cf.ThreadPoolExecutor(cpu_threads()) as ex: list(ex.map(lambda k: ff.sess.run(None, {'input': xs[k % len(xs)]}), range(len(paths))))
t_det = time.perf_counter() - t
t = time.perf_counter(); [cv2.imread(p) for p in paths[:64]]; t_dec = (time.perf_counter() - t) / min(64, len(paths))
print(json.dumps(dict(peak_rss_mb=_hwm(), align_ips=len(paths) / t_align, detector_only_ips=len(paths) / t_det, decode_ms=t_dec * 1000,
                      det_input=list(xs[0].shape[2:]))))
'''

PHOTOS_CLI = HWM + r'''
import sys, time, json; t0 = time.perf_counter()
from ediffiqa_nb.cli import main
lst, out = sys.argv[1:3]
paths = open(lst).read().split('\n')
man = out + '.manifest.csv'; open(man, 'w').write('path\n' + '\n'.join(paths) + '\n')
rc = main(['score', man, '--detect', '-o', out, '-q']); t_end = time.perf_counter()
print(json.dumps(dict(peak_rss_mb=_hwm(), startup_s=0.0, ips=len(paths) / (t_end - t0), n=len(paths), rc=rc)))
'''

PREPARE = HWM + r'''
import sys, time, json, warnings; t0 = time.perf_counter()
from ediffiqa_nb.detect import prepare
src, dest = sys.argv[1:3]; t1 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter('ignore'); man = prepare(src, dest, progress=False)
print(json.dumps(dict(peak_rss_mb=_hwm(), n=len(man), in_process_s=time.perf_counter() - t0, run_s=time.perf_counter() - t1)))
'''

UNET = HWM + r'''
import sys, time, json
import torch
from ediffiqa_nb.unet import unet_tiny, unet_flops, freeze_weight_standardization
th = int(sys.argv[1]); torch.set_num_threads(th); torch.manual_seed(0)
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
for _ in range(2): a @ b
peak = 0
for _ in range(3):
    t = time.perf_counter(); r = 3
    for _ in range(r): a @ b
    peak = max(peak, r * 2 * 2048**3 / (time.perf_counter() - t) / 1e9)
net = unet_tiny(16).eval(); x = torch.rand(2, 3, 112, 112) * 2 - 1; tt = torch.full((2,), 5)
import copy
fl = unet_flops(net)
frozen = freeze_weight_standardization(copy.deepcopy(net)); cl = copy.deepcopy(frozen).to(memory_format=torch.channels_last)
xcl = x.contiguous(memory_format=torch.channels_last)
with torch.inference_mode(): err = float((frozen(x, tt) - net(x, tt)).abs().max())
variants = {'eager': (net, x, False), 'frozen': (frozen, x, False), 'frozen_channels_last': (cl, xcl, False), 'frozen_cl_bf16': (cl, xcl, True)}
best = {k: 1e9 for k in variants}
with torch.inference_mode():
    for rnd in range(3):   # interleaved rounds, best of each: the variants see the same load
        for k, (m, xx, bf) in variants.items():
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf):
                t = time.perf_counter(); m(xx, tt); dt = time.perf_counter() - t
            if rnd: best[k] = min(best[k], dt)
t_eager, t_frozen, t_cl, t_bf16 = (best[k] for k in variants)
g = lambda t: fl * len(x) / t / 1e9
print(json.dumps(dict(peak_rss_mb=_hwm(), matmul_peak_gflops=peak, unet_gflop_per_img=fl / 1e9, eager_gflops=g(t_eager), frozen_gflops=g(t_frozen),
                      frozen_channels_last_gflops=g(t_cl), frozen_cl_bf16_gflops=g(t_bf16), frozen_max_abs_diff=err, threads=th)))
'''


PROFILE = HWM + r'''
import sys, time, json, collections
import numpy as np, openvino as ov
from ediffiqa_nb.infer import onnx_model, _ov_ir, _ov_split, _load_crop, BATCH
x = np.stack([_load_crop(p, 32) for p in open(sys.argv[1]).read().split('\n')[:BATCH]])
trunk, _ = _ov_split(_ov_ir(onnx_model()))
core = ov.Core(); m = core.read_model(str(trunk)); flop = {}
for o in m.get_ordered_ops():   # the pointwise convolutions and their FLOPs for this batch
    w = list(o.input_value(1).get_shape()) if o.get_type_name() == 'Convolution' else None
    if w and w[2] == w[3] == 1:
        C, H, W = [d.get_length() for d in list(o.output(0).get_partial_shape())[1:]]
        flop[o.get_friendly_name()] = 2 * len(x) * C * H * W * w[1]
cm = core.compile_model(m, 'CPU', {'INFERENCE_NUM_THREADS': 1, 'NUM_STREAMS': 1, 'INFERENCE_PRECISION_HINT': 'bf16', 'PERF_COUNT': True})
r = cm.create_infer_request()
for _ in range(3): r.infer({0: x})
by_type, by_node, reps = collections.Counter(), collections.Counter(), 10
for _ in range(reps):
    r.infer({0: x})
    for p in r.profiling_info:
        us = p.real_time.total_seconds() * 1e6 / reps; by_type[p.exec_type] += us; by_node[p.node_name] += us
rates = [flop[n] / (by_node[n] * 1e-6) / 1e9 for n in flop if by_node[n] > 0]
pw = sum(by_node[n] for n in flop)
a, b = np.random.rand(2048, 2048).astype(np.float32), np.random.rand(2048, 2048).astype(np.float32)
for _ in range(2): a @ b
def _mm():
    t = time.perf_counter(); a @ b; return 2 * 2048**3 / (time.perf_counter() - t) / 1e9
mm = max(_mm() for _ in range(5))
tot = sum(by_type.values())
print(json.dumps(dict(peak_rss_mb=_hwm(), batch=len(x), ms_per_img=tot / len(x) / 1e3, share=dict(by_type.most_common(4)), total_us=tot, pointwise_share=pw / tot,
                      pointwise_gflops=[min(rates), sum(flop.values()) / (pw * 1e-6) / 1e9, max(rates)], n_pointwise=len(rates), fp32_matmul_gflops=mm)))
'''

# what one core gives the command line's work per face, to bound what two cores can give: the engine (one slot, faces
# decoded beforehand) and the command line's loader (`batch.aligned_face`), each timed alone
CEILING = HWM + r'''
import sys, time, json
from ediffiqa_nb.infer import get_engine, run_pipeline, BATCH
from ediffiqa_nb.batch import aligned_face
paths, engine = open(sys.argv[1]).read().split('\n')[:256], sys.argv[2]
def _decode():
    t = time.perf_counter(); f = [aligned_face(p, margin=32) for p in paths]; return time.perf_counter() - t, f
dt, faces = min((_decode() for _ in range(3)), key=lambda r: r[0])   # best of 3
e = get_engine(engine, threads=1); run_pipeline(list(range(2 * BATCH)), lambda i: faces[i], e)
def _net():
    t = time.perf_counter(); run_pipeline(list(range(len(faces))), lambda i: faces[i], e); return time.perf_counter() - t
print(json.dumps(dict(peak_rss_mb=_hwm(), decode_ms=dt / len(paths) * 1e3, net_ms=min(_net() for _ in range(3)) / len(faces) * 1e3)))
'''


def make_photos(crop_paths, size, face, dest, seed):
    "Synthetic photos (JPEG quality 90) from celeba-wild crops; returns their paths"
    import cv2
    from ediffiqa_nb.infer import paste_photos
    out = []
    for k, p in enumerate(crop_paths):
        im = paste_photos([cv2.imread(p)[..., ::-1]], size, face, seed=seed + k)[0]
        f = dest/f'{size[0]}x{size[1]}_{k:05d}.jpg'; cv2.imwrite(str(f), im[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90]); out.append(str(f))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=1000, help='aligned crops (celeba-wild train+dev)')
    ap.add_argument('--photos', type=int, default=300, help='640x480 photos')
    ap.add_argument('--photos-hd', type=int, default=100, help='1920x1080 photos')
    ap.add_argument('--threads', type=int, default=None, help='cores (default: $OMP_NUM_THREADS or all allowed)')
    ap.add_argument('--engine', default='auto', help='toolkit engine (ediffiqa_nb.infer.ENGINES)')
    ap.add_argument('--no-cli', dest='cli', action='store_false', help="leave out this checkout's `ediffiqa score` CLI")
    ap.add_argument('--prepare-photos', type=int, default=300, help='640x480 photos for `detect.prepare` (0: skip)')
    ap.add_argument('--rounds', type=int, default=2, help='alternating zoo/toolkit/CLI runs (the best wall of each is compared)')
    ap.add_argument('--no-unet', action='store_true')
    ap.add_argument('--no-profile', dest='profile', action='store_false', help="leave out the engine's per-layer profile on one core")
    ap.add_argument('--json', default=None, help='write all numbers here')
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from ediffiqa_nb.core import shared_data
    from ediffiqa_nb.infer import onnx_model, cpu_threads, auto_engine
    import numpy as np, pandas as pd
    from scipy.stats import spearmanr
    th = cpu_threads(a.threads); R = dict(threads=th, engine=a.engine if a.engine != 'auto' else auto_engine(), cpus=os.cpu_count())
    root = shared_data('celeba-wild', required=True)
    meta = pd.read_csv(root/'meta.csv').sort_values('path')
    paths = [str(root/'images'/p) for p in meta.path[:a.n]]
    onnx = str(onnx_model())   # the toolkit's ONNX export of the default model (exported once, cached): both sides use it
    load = lambda: [round(x, 2) for x in os.getloadavg()]
    print(f'{len(paths)} celeba-wild crops, {th} threads, engine {R["engine"]}, load average {load()}; the children keep compiled bytecode', flush=True)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); (d/'crops').mkdir(); (d/'photos').mkdir()
        for k, p in enumerate(paths): os.symlink(p, d/'crops'/f'{k:05d}_{Path(p).name}')
        lst = d/'paths.txt'; lst.write_text('\n'.join(paths))
        # the children may write the toolkit's bytecode (__pycache__, git-ignored), as an installed package has it (pip
        # compiles on install): with PYTHONDONTWRITEBYTECODE set (as in this sandbox) each start would compile the
        # toolkit's modules again (about 25 ms); the installed packages have theirs already
        os.environ.pop('PYTHONDONTWRITEBYTECODE', None)
        child(TOOLKIT_ONCE, [lst, d/'warm.csv', a.engine], th)   # fills the OS file cache and the engine caches for both sides
        if a.cli: child(CLI, [d/'crops', d/'warm_cli.csv'], th)   # and compiles the command line's modules
        R['load_before'] = load()
        runs = {'zoo': [], 'toolkit': []} | ({'cli': []} if a.cli else {})
        for k in range(a.rounds):   # alternating, best wall of each: every side samples the same load
            runs['zoo'].append(child(ZOO, [onnx, lst, d/'zoo.npy'], th))
            runs['toolkit'].append(child(TOOLKIT_ONCE, [lst, d/'tk.csv', a.engine], th))
            if a.cli: runs['cli'].append(child(CLI, [d/'crops', d/f'cli{k}.csv'], th))   # a fresh output each round: no resume
        for k, v in runs.items(): R[k] = min(v, key=lambda r: r['wall_s']) | {'walls_s': [round(r['wall_s'], 2) for r in v]}
        R['toolkit'].update({k: v for k, v in child(TOOLKIT, [lst, d/'tk.npy', a.engine], th).items() if k in ('startup_s', 'steady_ips', 'engine')})
        R['load_after'] = load()
        q_zoo, q_tk = np.load(d/'zoo.npy'), np.load(d/'tk.npy')
        R['spearman_toolkit_vs_zoo'] = float(spearmanr(q_zoo, q_tk)[0]); R['max_abs_diff_toolkit_vs_zoo'] = float(np.abs(q_zoo - q_tk).max())
        for key, n, size, face in [('photos_640x480', a.photos, (640, 480), 0.45), ('photos_1920x1080', a.photos_hd, (1920, 1080), 0.35)]:
            if n <= 0: continue
            ph = make_photos(paths[:n], size, face, d/'photos', seed=0)
            pl = d/f'{key}.txt'; pl.write_text('\n'.join(ph))
            R[key] = child(PHOTOS, [pl, a.engine], th)
            R[key].update(child(PHOTO_PARTS, [pl], th) | {'peak_rss_mb': R[key]['peak_rss_mb']})
            if key == 'photos_640x480' and a.cli: R['photos_640x480_cli'] = child(PHOTOS_CLI, [pl, d/'cli_photos.csv'], th)
            if key == 'photos_640x480' and a.prepare_photos > 0:
                src = d/'prepare_src'; src.mkdir()
                for f in ph[:a.prepare_photos]: os.symlink(f, src/Path(f).name)
                R['prepare_640x480'] = child(PREPARE, [src, d/'prepare_dest'], th)
        if a.profile: R['profile'] = child(PROFILE, [lst], 1)
        R['ceiling'] = child(CEILING, [lst, a.engine], 1)
        if not a.no_unet: R['unet'] = child(UNET, [th], th)
    R['load_end'] = load()
    z, t = R['zoo'], R['toolkit']
    print(f"\naligned crops (n={len(paths)}), fresh processes, best wall of {a.rounds} alternating runs, load average {R['load_before']} -> {R['load_after']}")
    rows = [('zoo-style loop (cv2.dnn, per image)', z), (f"toolkit score_aligned ({R['engine']})", t)] + ([('ediffiqa score CLI (this checkout)', R['cli'])] if 'cli' in R else [])
    for name, r in rows:
        print(f"  {name:42s} wall {r['wall_s']:6.2f} s  -> {len(paths)/r['wall_s']:6.1f} img/s incl. start-up"
              + (f"; steady {r['steady_ips']:6.1f} img/s; start-up {r['startup_s']:.2f} s" if 'steady_ips' in r else '')
              + f"; peak RSS {r.get('peak_rss_mb', float('nan')):.0f} MB" + (f"; walls {r['walls_s']}" if 'walls_s' in r else ''))
    R['ratio_incl_startup'] = z['wall_s'] / t['wall_s']; R['ratio_steady'] = t['steady_ips'] / z['steady_ips']
    print(f"  ratio toolkit/zoo: {R['ratio_incl_startup']:.2f}x incl. start-up, {R['ratio_steady']:.2f}x steady state"
          f"  (Spearman of the two score lists {R['spearman_toolkit_vs_zoo']:.5f}, max abs diff {R['max_abs_diff_toolkit_vs_zoo']:.4f})")
    if 'cli' in R: print(f"  ratio CLI/zoo: {z['wall_s']/R['cli']['wall_s']:.2f}x incl. start-up")
    c = R['ceiling']; c['bound_s'] = t['startup_s'] + len(paths) * (c['net_ms'] + c['decode_ms']) / 1e3 / th
    print(f"  bound on these cores: one core scores a face in {c['net_ms']:.2f} ms and decodes it in {c['decode_ms']:.2f} ms, so {th} cores"
          f" need at least {c['bound_s']:.2f} s with the library's {t['startup_s']:.2f} s start-up: at most {z['wall_s']/c['bound_s']:.2f}x this zoo loop")
    for key in ('photos_640x480', 'photos_1920x1080'):
        if key not in R: continue
        r = R[key]
        print(f"\n{key}: n={r['n']}, faces found {r['found']}, wall {r['wall_s']:.2f} s ({r['n']/r['wall_s']:.1f} img/s incl. start-up), "
              f"start-up {r['startup_s']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
        print(f"  detect+align+score {r['ips']:6.1f} img/s | detect+align (align_photos) {r['align_ips']:6.1f} img/s | "
              f"RetinaFace forward alone {r['detector_only_ips']:6.1f} img/s at {r['det_input'][1]}x{r['det_input'][0]} | JPEG decode {r['decode_ms']:.1f} ms/img")
        if key == 'photos_640x480' and 'photos_640x480_cli' in R:
            b = R['photos_640x480_cli']; print(f"  ediffiqa score --detect (CLI, n={b['n']}): {b['n']/b['wall_s']:.1f} img/s incl. start-up (wall {b['wall_s']:.2f} s), peak RSS {b['peak_rss_mb']:.0f} MB")
        if key == 'photos_640x480' and 'prepare_640x480' in R:
            b = R['prepare_640x480']; print(f"  detect.prepare (writes PNGs and the manifest), n={b['n']}: {b['n']/b['wall_s']:.1f} img/s incl. start-up (wall {b['wall_s']:.2f} s), {b['n']/b['run_s']:.1f} img/s after the imports, peak RSS {b['peak_rss_mb']:.0f} MB")
    if 'unet' in R:
        u = R['unet']; pk = u['matmul_peak_gflops']
        print(f"\nDifFIQA UNet (dim 16, {u['unet_gflop_per_img']:.2f} GFLOP/img, batch 2, {u['threads']} threads); fp32 matmul peak {pk:.0f} GFLOP/s measured in the same child")
        for k in ('eager', 'frozen', 'frozen_channels_last', 'frozen_cl_bf16'):
            print(f"  {k:22s} {u[k + '_gflops']:6.1f} GFLOP/s = {u[k + '_gflops']/pk:5.1%} of the matmul peak")
        print(f"  frozen weight standardisation: max abs difference {u['frozen_max_abs_diff']:.1e}")
    if 'profile' in R:
        p = R['profile']; lo, mean, hi = p['pointwise_gflops']
        print(f"\nthe default engine's network on one core (OpenVINO bf16, batch {p['batch']}, PERF_COUNT): {p['ms_per_img']:.2f} ms/img; "
              f"time by kernel: " + ', '.join(f"{k} {v/p['total_us']:.0%}" for k, v in p['share'].items()))
        print(f"  its {p['n_pointwise']} 1x1 convolutions ({p['pointwise_share']:.0%} of the time) run at {lo:.0f}-{hi:.0f} GFLOP/s ({mean:.0f} overall); "
              f"fp32 matmul (numpy, 2048^2, one thread) {p['fp32_matmul_gflops']:.0f} GFLOP/s in the same child")
    ph = R.get('photos_640x480')
    print('\nDone-when (issue 18):')
    print(f"  aligned crops >= 1000: toolkit score_aligned incl. start-up {R['ratio_incl_startup']:.2f}x the zoo loop (target >= 2): {'PASS' if R['ratio_incl_startup'] >= 2 and len(paths) >= 1000 else 'FAIL'}")
    if 'cli' in R:
        R['ratio_cli_incl_startup'] = z['wall_s'] / R['cli']['wall_s']
        print(f"  aligned crops >= 1000: `ediffiqa score` incl. start-up {R['ratio_cli_incl_startup']:.2f}x the zoo loop (target >= 2): {'PASS' if R['ratio_cli_incl_startup'] >= 2 and len(paths) >= 1000 else 'FAIL'}; its peak RSS {R['cli']['peak_rss_mb']:.0f} MB (target < 600): {'PASS' if R['cli']['peak_rss_mb'] < 600 else 'FAIL'}")
    if ph: print(f"  photos 640x480: detect+align+score {ph['ips']:.1f} img/s steady, {ph['n']/ph['wall_s']:.1f} incl. start-up (target >= 30): {'PASS' if ph['ips'] >= 30 else 'FAIL'}")
    if 'photos_640x480_cli' in R:
        b = R['photos_640x480_cli']; print(f"  photos 640x480 through `ediffiqa score --detect`: {b['n']/b['wall_s']:.1f} img/s incl. start-up (n={b['n']})")
    print(f"  peak RSS of scoring {t['peak_rss_mb']:.0f} MB (target < 600): {'PASS' if t['peak_rss_mb'] < 600 else 'FAIL'}")
    print(f"  load average at the end {R['load_end']}")
    if a.json: Path(a.json).write_text(json.dumps(R, indent=1))


if __name__ == '__main__':
    main()
