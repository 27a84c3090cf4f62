"""int8 from NNCF for the default quality model: fast enough, and accurate enough, to replace OpenVINO bf16?

    .venv/bin/pip install nncf          # NNCF is not a dependency of ediffiqa_nb
    nice .venv/bin/python bench/int8_nncf.py --json out.json

From the default model's OpenVINO IR (uint8 NHWC input, as the engines compile it), two int8 models:
  full     `nncf.quantize`, MIXED preset (symmetric int8 weights, asymmetric uint8 activations), calibrated on 300
           celeba-wild train faces; the linear layers (MatMul) stay in floating point
  guarded  `nncf.quantize_with_accuracy_control`, same calibration; layers go back to floating point, most harmful
           first, until Spearman's rho against fp32 on 1000 other train faces is within --max-drop of 1
  no_dw_first  as full, with the depthwise convolutions and the first convolution in floating point
  early_only   as full, with blocks 7 to 14 (the 14x14 and 7x7 ones) in floating point: int8 only where the
           activations are large
  sq_edge  SmoothQuant on the convolutions (alpha 0.8; NNCF applies it with model_type TRANSFORMER), the first and the
           last two convolutions in floating point: the most accurate int8 found
For each, next to OpenVINO bf16 (the default engine) in the same process: `infer.precision_guard` on celeba-wild dev
(Spearman's rho >= 0.999 against fp32, pAUC@0.3 within 0.002), ms per face on one core (batch 8, best of 3), and the
wall time of `infer.run_pipeline` over --n crops with every core (best of --rounds, alternating), each through
`infer.OpenVINOEngine` (trunk in int8/bf16, the last linear layer in fp32).
"""
import argparse, json, os, re, sys, tempfile, time
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def qualities(cm, x, bs=8):
    "Qualities of uint8 faces `x` from a compiled OpenVINO model"
    out = cm.output('quality')
    return np.concatenate([cm(x[s:s+bs])[out].reshape(-1) for s in range(0, len(x), bs)]).astype(np.float64)


def spearman_fn(x, ref):
    "NNCF validation function: Spearman's rho against `ref` on the listed faces, and -|error| of each face"
    from scipy.stats import spearmanr
    def fn(cm, idx):
        idx = list(idx); q = qualities(cm, x[idx]); err = -np.abs(q - ref[idx])
        return (float(spearmanr(q, ref[idx])[0]) if len(idx) > 2 else float(err.mean())), err.tolist()
    return fn


def ms_per_face(core, xml, x, reps=3):
    "ms per face of the whole graph on one core (batch 8, bf16 where not int8)"
    r = core.compile_model(str(xml), 'CPU', {'INFERENCE_NUM_THREADS': 1, 'NUM_STREAMS': 1, 'INFERENCE_PRECISION_HINT': 'bf16'}).create_infer_request()
    r.infer({0: x[:8]}); best = np.inf
    for _ in range(reps):
        t = time.perf_counter()
        for s in range(0, len(x), 8): r.infer({0: x[s:s+8]})
        best = min(best, (time.perf_counter() - t) / len(x) * 1e3)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--max-drop', type=float, default=4e-4, help='accuracy control: the largest drop of Spearman on the validation faces')
    ap.add_argument('--n', type=int, default=1000, help='crops for the end-to-end pipeline timing')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--json', default=None)
    a = ap.parse_args()
    try: import nncf
    except ImportError: sys.exit('bench/int8_nncf.py needs NNCF, which ediffiqa_nb does not install: pip install nncf')
    import openvino as ov
    from ediffiqa_nb.core import shared_data
    from ediffiqa_nb.data import celeba_wild
    from ediffiqa_nb.infer import OpenVINOEngine, _load_crop, _ov_ir, onnx_model, run_pipeline, cpu_threads, precision_guard
    if shared_data('celeba-wild') is None: sys.exit('needs the celeba-wild faces: set $EDIFFIQA_DATA')
    crops = lambda ps: np.stack([_load_crop(p, 32) for p in ps])
    tr = celeba_wild('train').sample(1300, random_state=0).path.tolist()
    xc, xv = crops(tr[:300]), crops(tr[300:])
    dev = celeba_wild('dev').path.tolist()
    pipe = (dev + celeba_wild('train').path.tolist())[:a.n]
    ir = _ov_ir(onnx_model()); core = ov.Core(); m = core.read_model(str(ir))
    fp32 = core.compile_model(m, 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'})
    ref_v = qualities(fp32, xv)
    cal = nncf.Dataset([xc[i:i+1] for i in range(len(xc))])
    kw = dict(preset=nncf.QuantizationPreset.MIXED, subset_size=len(xc), ignored_scope=nncf.IgnoredScope(types=['MatMul']))
    out, tmp = {}, Path(tempfile.mkdtemp(prefix='int8_nncf-'))
    t = time.perf_counter(); full = nncf.quantize(m, cal, **kw); out['full_build_s'] = time.perf_counter() - t
    t = time.perf_counter()
    guarded = nncf.quantize_with_accuracy_control(core.read_model(str(ir)), cal, nncf.Dataset(list(range(len(xv))), lambda i: xv[i:i+1]),
                                                  spearman_fn(xv, ref_v), max_drop=a.max_drop, drop_type=nncf.DropType.ABSOLUTE, **kw)
    out['guarded_build_s'] = time.perf_counter() - t
    convs = [o.get_friendly_name() for o in m.get_ordered_ops() if o.get_type_name() in ('Convolution', 'GroupConvolution')]
    block = lambda name: int(re.search(r'conv_(\d+)', name).group(1)) if re.search(r'conv_(\d+)', name) else 0
    scopes = {'no_dw_first': nncf.IgnoredScope(types=['MatMul', 'GroupConvolution'], names=convs[:1]),
              'early_only': nncf.IgnoredScope(types=['MatMul'], names=[c for c in convs if block(c) >= 7])}
    partial_models = {k: nncf.quantize(core.read_model(str(ir)), cal, **{**kw, 'ignored_scope': sc}) for k, sc in scopes.items()}
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, AdvancedSmoothQuantParameters
    edge = [c for c in convs if block(c) in (1, 13, 14) and '_dw' not in c]
    partial_models['sq_edge'] = nncf.quantize(core.read_model(str(ir)), cal, **{**kw, 'ignored_scope': nncf.IgnoredScope(types=['MatMul'], names=edge)},
        model_type=nncf.ModelType.TRANSFORMER, advanced_parameters=AdvancedQuantizationParameters(smooth_quant_alphas=AdvancedSmoothQuantParameters(convolution=0.8, matmul=-1)))
    xmls = {'bf16': ir}
    for k, q in (('full', full), ('guarded', guarded), *partial_models.items()):
        xmls[k] = tmp/f'{k}.xml'; ov.save_model(q, str(xmls[k]), compress_to_fp16=False)
        out[f'{k}_quantised_ops'] = sum(1 for o in q.get_ordered_ops() if o.get_type_name() == 'FakeQuantize')
    slots = cpu_threads(a.threads)
    engines = {k: OpenVINOEngine(x, slots, 'bf16') for k, x in xmls.items()}
    load = lambda p: _load_crop(p, 32)
    for e in engines.values(): run_pipeline(pipe[:64], load, e)
    walls = {k: [] for k in engines}
    for _ in range(a.rounds):
        for k, e in engines.items():
            t = time.perf_counter(); run_pipeline(pipe, load, e); walls[k].append(time.perf_counter() - t)
    guard = precision_guard({'bf16': 'openvino-bf16', **{k: e for k, e in engines.items() if k != 'bf16'}}, threads=slots).set_index('engine')
    x256 = crops(dev[:256]); rows = {}
    for k in engines:
        g = guard.loc[k]
        rows[k] = dict(dev_spearman=float(g.spearman), d_pauc=float(g.d_pauc), max_abs_diff=float(g.max_abs_diff), passes=bool(g.passes),
                       ms_per_face_1core=ms_per_face(core, xmls[k], x256), pipeline_wall_s=min(walls[k]), walls=walls[k])
    out.update(rows=rows, max_drop=a.max_drop, n=len(pipe), threads=slots, load=os.getloadavg())
    print(f'default model, {len(dev)} celeba-wild dev faces; pipeline: {len(pipe)} crops, {slots} cores, best of {a.rounds}; load average {out["load"]}')
    print(f'quantised operations (FakeQuantize): ' + ', '.join(f'{k} {out[k + "_quantised_ops"]}' for k in xmls if k != 'bf16')
          + f' (guarded: max drop {a.max_drop} on 1000 train faces); build {out["full_build_s"]:.0f} s (full) and {out["guarded_build_s"]:.0f} s (guarded)')
    for k, r in rows.items():
        print(f'  {k:8s} guard on dev: Spearman vs fp32 {r["dev_spearman"]:.5f}, pAUC@0.3 {r["d_pauc"]:+.5f} vs fp32: {"PASS" if r["passes"] else "FAIL"}; '
              f'max |diff| {r["max_abs_diff"]:.4f}; {r["ms_per_face_1core"]:.2f} ms/face on one core ({rows["bf16"]["ms_per_face_1core"] / r["ms_per_face_1core"]:.2f}x bf16); '
              f'pipeline {r["pipeline_wall_s"]:.2f} s ({rows["bf16"]["pipeline_wall_s"] / r["pipeline_wall_s"]:.2f}x bf16)')
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == '__main__': main()
