"The `ediffiqa` command line: help, exit codes, the bad-input corpus through prepare and score --detect, evaluate joins, README path"
import os, re, sys, shutil, resource, subprocess
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image

COMMANDS = ['prepare', 'score', 'pairs', 'evaluate', 'label', 'distill', 'train-ddpm', 'bench', 'demo']
ROOT = Path(__file__).resolve().parents[1]


def one_line_error(r, *needles, rc=2):
    "Exit code `rc`, a single stderr line, containing every needle"
    assert r.returncode == rc, (r.returncode, r.stdout, r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.strip() and 'Warning' not in l]
    assert len(lines) == 1, r.stderr
    for n in needles: assert n in lines[0], (n, lines[0])
    assert 'Traceback' not in r.stderr
    return lines[0]


def celeba(split:str):
    "(images folder, the split's rows of celeba-wild meta.csv); the test is skipped (and counted) without the shared data"
    from ediffiqa_nb.core import shared_data, skip_msg
    root = shared_data('celeba-wild')
    if root is None: pytest.skip(skip_msg('celeba-wild'))
    meta = pd.read_csv(root/'meta.csv')
    return root/'images', meta[meta.split == split]

@pytest.fixture
def cli(capsys):
    "Run `main` in-process (fast); same fields as a CompletedProcess"
    from types import SimpleNamespace
    from ediffiqa_nb.cli import main
    def _run(*args):
        capsys.readouterr(); rc = main([str(a) for a in args]); o = capsys.readouterr()
        return SimpleNamespace(returncode=rc, stdout=o.out, stderr=o.err)
    return _run


def test_help_lists_commands_and_exit_codes(run_cli):
    r = run_cli('--help')
    assert r.returncode == 0
    for c in COMMANDS: assert c in r.stdout
    assert 'exit codes: 0 all done; 3 some items failed' in ' '.join(r.stdout.split())


def test_each_command_has_help(capsys):
    from ediffiqa_nb.cli import main
    for cmd in COMMANDS:
        with pytest.raises(SystemExit) as e: main([cmd, '--help'])
        out = ' '.join(capsys.readouterr().out.split())
        assert e.value.code == 0 and f'usage: ediffiqa {cmd}' in out and 'exit codes' in out


def test_no_command_prints_help_and_fails(run_cli):
    r = run_cli()
    assert r.returncode == 1 and 'usage: ediffiqa' in r.stdout


def test_unknown_command_is_an_error(run_cli):
    r = run_cli('no-such-command')
    assert r.returncode == 2 and 'invalid choice' in r.stderr


# ---------------------------------------------------------------- validation before any work

def test_arguments_checked_before_work(cli, tmp_path, capsys):
    from ediffiqa_nb.cli import main
    (tmp_path/'a').mkdir(); Image.new('RGB', (112, 112)).save(tmp_path/'a'/'x.png')
    one_line_error(cli('score', tmp_path/'nope'), 'nope', 'no such file or folder')
    one_line_error(cli('score', tmp_path/'a', '-o', tmp_path/'quality.txt'), 'quality.txt', 'must end in .csv or .parquet')
    assert not (tmp_path/'quality.txt').exists()
    (tmp_path/'m.pt').write_text('not a model')
    one_line_error(cli('score', tmp_path/'a', '--model', tmp_path/'m.pt'), 'm.pt', 'not an eDifFIQA quality model')
    one_line_error(cli('score', tmp_path/'a', '--model', tmp_path/'none.pt'), 'none.pt', 'model file not found')
    import torch
    if not torch.cuda.is_available(): one_line_error(cli('score', tmp_path/'a', '--device', 'cuda'), '--device', 'CUDA is not available')
    one_line_error(cli('score', tmp_path/'a', '--method', 'diffiqa'), '--ddpm')
    for opt in ('--batch-size', '--threads', '--shard-size'):
        with pytest.raises(SystemExit) as e: main(['score', str(tmp_path/'a'), opt, '0'])
        assert e.value.code == 2 and 'must be at least 1' in capsys.readouterr().err
    one_line_error(cli('prepare', tmp_path/'a', tmp_path/'a'/'out'), 'inside the source folder')
    one_line_error(cli('pairs', tmp_path/'a', '-o', tmp_path/'p.txt'), 'p.txt', 'must end in .csv or .parquet')


def test_empty_folder_and_manifest_without_path(cli, tmp_path):
    one_line_error(cli('score', tmp_path), str(tmp_path), 'no images found')
    (tmp_path/'m.csv').write_text('file,identity\na.jpg,1\n')
    one_line_error(cli('score', tmp_path/'m.csv'), 'm.csv', "no 'path' column")


# ---------------------------------------------------------------- the bad-input corpus

@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    "Photos built at test time from real faces, with every kind of bad input; {name: expected reason or None (good)}"
    images, dev = celeba('dev')
    faces = [Image.open(images/p).convert('RGB') for p in dev.groupby('identity').head(1).path.iloc[:8]]
    d = tmp_path_factory.mktemp('corpus')/'photos'
    exp = {}
    def put(rel, im=None, data=None, reason=None, **kw):
        p = d/rel; p.parent.mkdir(parents=True, exist_ok=True)
        if data is not None: p.write_bytes(data)
        elif im is not None: im.save(p, **kw)
        exp[rel] = reason
        return p
    put('alice/good.jpg', faces[0], quality=95)
    put('alice/empty.jpg', data=b'', reason='empty file (0 bytes)')
    put('alice/notes.jpg', data=b'this is not an image', reason='not a valid image file')
    full = put('bob/full.jpg', faces[1], quality=95)
    put('bob/truncated.jpg', data=full.read_bytes()[:len(full.read_bytes())*6//10], reason='truncated image file')
    rgba = faces[2].copy(); rgba.putalpha(255); put('bob/rgba.png', rgba)
    import cv2
    p16 = d/'carol'/'deep16.png'; p16.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(p16), (np.asarray(faces[3])[..., ::-1].astype(np.uint16)*257)); exp['carol/deep16.png'] = None
    put('carol/gray.jpg', faces[4].convert('L'), quality=95)
    put('carol/tiny.png', faces[4].resize((10, 10)), reason='no face found')
    big = Image.new('L', (12000, 12000), 110); big.paste(faces[5].convert('L').resize((3000, 3000)), (4000, 3000))
    put('dave/huge.jpg', big, quality=85); del big
    put('dave/blank.jpg', Image.new('RGB', (640, 480), (200, 190, 180)), reason='no face found')
    two = Image.new('RGB', (352, 176)); two.paste(faces[6], (0, 0)); two.paste(faces[7], (176, 0))
    put('erin/two faces.jpg', two, quality=95)
    put('erin/visage é ü 名前.jpg', faces[6], quality=95)
    put('frank/a/b/c/nested.jpg', faces[7], quality=95)
    os.symlink(d/'frank'/'gone.jpg', d/'frank'/'dangling.jpg'); exp['frank/dangling.jpg'] = 'broken symbolic link'
    put('gina/face.jpg', faces[0], quality=95); put('gina/face.png', faces[1])
    put('gina/.hidden.jpg', faces[0], quality=95); exp.pop('gina/.hidden.jpg')   # hidden: not an input
    return d, exp


def _check_failures(failed:pd.DataFrame, d:Path, exp:dict):
    got = {Path(p).relative_to(d).as_posix(): r for p, r in zip(failed.path, failed.reason)}
    bad = {k: v for k, v in exp.items() if v is not None}
    assert sorted(got) == sorted(bad), (sorted(got), sorted(bad))
    for k, v in bad.items(): assert v in got[k], (k, v, got[k])


def test_corpus_prepare(corpus, tmp_path, run_cli):
    d, exp = corpus
    r = run_cli('prepare', d, tmp_path/'aligned', '-q', '--threads', '1')
    assert r.returncode == 3, r.stderr
    assert 'Traceback' not in r.stderr
    n_good = sum(v is None for v in exp.values())
    assert r.stderr.strip().splitlines()[-1] == f'ediffiqa prepare: {n_good} done, {len(exp) - n_good} failed, 0 skipped'
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1_500_000, 'the 12000x12000 photo must not cost gigabytes'
    man = pd.read_csv(tmp_path/'aligned'/'manifest.csv')
    srcs = {Path(s).relative_to(d).as_posix(): row for s, (_, row) in zip(man.src, man.iterrows())}
    assert sorted(srcs) == sorted(k for k, v in exp.items() if v is None)
    assert srcs['erin/two faces.jpg'].n_faces == 2 and (man.n_faces[man.src != str(d/'erin'/'two faces.jpg')] == 1).all()
    assert {srcs['gina/face.jpg'].path, srcs['gina/face.png'].path} == {'gina/face.jpg.png', 'gina/face.png.png'}
    assert srcs['frank/a/b/c/nested.jpg'].identity == 'frank'
    for p in man.path: assert Image.open(tmp_path/'aligned'/p).size == (112, 112)
    # the 16-bit and RGBA photos are read like their 8-bit RGB originals
    a16, ag = np.asarray(Image.open(tmp_path/'aligned'/srcs['carol/deep16.png'].path), float), np.asarray(Image.open(tmp_path/'aligned'/srcs['bob/rgba.png'].path), float)
    assert a16.std() > 20 and ag.std() > 20
    _check_failures(pd.read_csv(tmp_path/'aligned'/'failed.csv'), d, exp)
    for k, v in exp.items():
        if v is not None: assert v in r.stderr, (k, v)
    assert 'several faces' in r.stderr
    # a second run: nothing redone; a fixed photo is picked up
    r2 = run_cli('prepare', d, tmp_path/'aligned', '-q', '--threads', '1')
    assert r2.returncode == 3 and r2.stderr.strip().endswith(f'0 done, {len(exp) - n_good} failed, {n_good} skipped')
    shutil.copy(d/'alice'/'good.jpg', d/'alice'/'notes.jpg')
    try:
        r3 = run_cli('prepare', d, tmp_path/'aligned', '-q')
        assert r3.stderr.strip().endswith(f'1 done, {len(exp) - n_good - 1} failed, {n_good} skipped'), r3.stderr
    finally: (d/'alice'/'notes.jpg').write_bytes(b'this is not an image')


def test_corpus_score_detect(corpus, tmp_path, cli):
    d, exp = corpus
    r = cli('score', d, '--detect', '-o', tmp_path/'q.csv', '-q', '--threads', '1')
    assert r.returncode == 3, r.stderr
    q = pd.read_csv(tmp_path/'q.csv')
    assert sorted(Path(p).relative_to(d).as_posix() for p in q.path) == sorted(k for k, v in exp.items() if v is None)
    assert np.isfinite(q.quality).all()
    _check_failures(pd.read_csv(tmp_path/'q.failed.csv'), d, exp)
    assert r.stderr.strip().splitlines()[-1].endswith(f'{len(q)} done, {len(exp) - len(q)} failed, 0 skipped')
    # --strict stops at the first failure, exit 3, nothing written
    r = cli('score', d, '--detect', '-o', tmp_path/'s.csv', '-q', '--strict')
    assert r.returncode == 3 and '--strict stops here' in r.stderr and not (tmp_path/'s.csv').exists()


def test_only_bad_images_exit_2(cli, tmp_path):
    (tmp_path/'x.jpg').write_text('text'); (tmp_path/'y.jpg').write_bytes(b'')
    r = cli('score', tmp_path, '-o', tmp_path/'q.csv', '-q')
    assert r.returncode == 2 and r.stderr.strip().endswith('0 done, 2 failed, 0 skipped')


# ---------------------------------------------------------------- evaluate joins by key

def _synthetic(d, n_id=15, per=4, seed=0):
    g = np.random.default_rng(seed); n = n_id*per; ids = np.repeat(np.arange(n_id), per)
    paths = np.array([f'{i:02d}/{k}.jpg' for i in range(n_id) for k in range(per)])
    q = g.uniform(0, 1, n); i, j = np.triu_indices(n, 1); mated = ids[i] == ids[j]
    sim = np.where(mated, 0.2 + 0.6*np.minimum(q[i], q[j]) + g.normal(0, 0.1, len(i)), g.normal(0, 0.1, len(i)))
    pd.DataFrame(dict(path1=paths[i], path2=paths[j], mated=mated, sim=sim)).to_csv(d/'pairs.csv', index=False)
    pd.DataFrame(dict(path=paths, quality=q)).to_csv(d/'good.csv', index=False)
    pd.DataFrame(dict(path=paths, quality=g.uniform(0, 1, n))).to_parquet(d/'random.parquet', index=False)


def test_evaluate(run_cli, tmp_path):
    _synthetic(tmp_path)
    r = run_cli('evaluate', tmp_path/'pairs.csv', tmp_path/'good.csv', tmp_path/'random.parquet', '-o', tmp_path/'t.csv', '--plot', tmp_path/'edc.png')
    assert r.returncode == 0, r.stderr
    assert 'good' in r.stdout and 'random' in r.stdout
    assert 'too few to measure that FMR' in r.stderr    # 1,710 non-mated pairs at FMR 1e-3
    t = pd.read_csv(tmp_path/'t.csv').set_index(['method', 'limit']).pauc
    assert t['good', 0.3] < t['random', 0.3]
    assert (tmp_path/'edc.png').stat().st_size > 1000


def test_score_aligned_runs_without_torch_or_pandas(aligned_faces, tmp_path):
    "eDifFIQA scoring of a folder of aligned crops into a csv on the CPU engines imports neither torch nor pandas (start-up and memory, issue 18), bad files included"
    src = tmp_path/'faces'; shutil.copytree(aligned_faces, src); (src/'broken.png').write_bytes(b'not a png')
    code = ("import sys; from ediffiqa_nb.cli import main; "
            f"rc = main(['score', {str(src)!r}, '-o', {str(tmp_path/'q.csv')!r}, '-q', '--device', 'cpu']); "
            "print(rc, 'torch' in sys.modules, 'pandas' in sys.modules)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path)
    assert r.stdout.split()[-3:] == ['3', 'False', 'False'], (r.stdout, r.stderr)
    assert f"failed: {src/'broken.png'}: " in r.stderr
    got = pd.read_csv(tmp_path/'q.csv')
    assert len(got) == 80 and got.quality.notna().all() and list(got.columns) == ['path', 'identity', 'quality']
    assert pd.read_csv(tmp_path/'q.failed.csv').path.tolist() == [str(src/'broken.png')]


def test_evaluate_options_reach_metrics(cli, tmp_path):
    "--pair-quality, --threshold, --start-error, --error-rule, --error-type give the pAUC of `metrics.pauc_table` with those options"
    from ediffiqa_nb.metrics import pauc_table
    _synthetic(tmp_path); p, g = pd.read_csv(tmp_path/'pairs.csv'), pd.read_csv(tmp_path/'good.csv')
    idx = {k: i for i, k in enumerate(g.path)}; ij = np.c_[p.path1.map(idx), p.path2.map(idx)]
    cases = [dict(pair_quality='product'), dict(threshold=0.3, error_rule='lt'), dict(start_error=0.1),
             dict(error_type='FMR', fmr=0.05)]
    base = None
    for kw in cases:
        flags = [x for k, v in kw.items() for x in (f"--{k.replace('_', '-')}", v)]
        r = cli('evaluate', tmp_path/'pairs.csv', tmp_path/'good.csv', '-o', tmp_path/'t.csv', *flags)
        assert r.returncode == 0, r.stderr
        got = pd.read_csv(tmp_path/'t.csv').pauc.to_numpy()
        exp = pauc_table({'good': g.quality.to_numpy()}, ij, sims=p.sim.to_numpy(), mated=p.mated.to_numpy(), **kw).pauc.to_numpy()
        np.testing.assert_allclose(got, exp, rtol=1e-12)
        if base is None: base = pauc_table({'good': g.quality.to_numpy()}, ij, sims=p.sim.to_numpy(), mated=p.mated.to_numpy()).pauc.to_numpy()
        assert not np.allclose(got, base), kw   # each option changes the result on this data, so a dropped flag fails


def test_evaluate_errors(cli, tmp_path):
    _synthetic(tmp_path)
    g = pd.read_csv(tmp_path/'good.csv')
    g.iloc[:-1].to_csv(tmp_path/'short.csv', index=False)
    one_line_error(cli('evaluate', tmp_path/'pairs.csv', tmp_path/'short.csv'), 'short.csv', 'has no quality for', '14/3.jpg')
    g.assign(quality=g.quality.astype(str).where(g.index != 5, 'bad')).to_csv(tmp_path/'text.csv', index=False)
    one_line_error(cli('evaluate', tmp_path/'pairs.csv', tmp_path/'text.csv'), 'text.csv', "is not numeric: 'bad' in row 5")
    g.assign(quality=g.quality.where(g.index != 7)).to_csv(tmp_path/'nan.csv', index=False)
    one_line_error(cli('evaluate', tmp_path/'pairs.csv', tmp_path/'nan.csv'), 'nan.csv', 'NaN/empty for', '01/3.jpg')
    (tmp_path/'b').mkdir(); g.assign(path='../' + g.path).to_csv(tmp_path/'b'/'good.csv', index=False)   # relative to its own folder
    one_line_error(cli('evaluate', tmp_path/'pairs.csv', tmp_path/'good.csv', tmp_path/'b'/'good.csv'), "'good' is used twice", 'NAME=FILE')
    assert cli('evaluate', tmp_path/'pairs.csv', f'a={tmp_path/"good.csv"}', f'b={tmp_path/"b"/"good.csv"}').returncode == 0
    p = pd.read_csv(tmp_path/'pairs.csv'); p['i'], p['j'] = 0, 1
    p.drop(columns=['path1', 'path2']).to_csv(tmp_path/'ij.csv', index=False)
    one_line_error(cli('evaluate', tmp_path/'ij.csv', tmp_path/'good.csv'), 'ij.csv', 'row index (i, j)')


@pytest.fixture(scope='module')
def aligned_faces(tmp_path_factory):
    "Aligned 112x112 crops of 10 identities x 8 celeba-wild dev faces (identity folders)"
    images, dev = celeba('dev')
    dev = dev[dev.identity.isin(dev.identity.unique()[:10])].groupby('identity').head(8)
    d = tmp_path_factory.mktemp('aligned')
    for p in dev.path:
        (d/p).parent.mkdir(parents=True, exist_ok=True); Image.open(images/p).crop((32, 32, 144, 144)).save((d/p).with_suffix('.png'))
    return d


def test_evaluate_order_invariant_on_real_faces(aligned_faces, cli, tmp_path):
    "The same pAUC for the quality table in any row order and the pairs in any order (and sorted-by-path tables)"
    d = aligned_faces
    assert cli('score', d, '-o', tmp_path/'q.csv', '-q').returncode == 0
    assert cli('pairs', d, '-o', tmp_path/'pairs.csv', '-q').returncode == 0
    q, p = pd.read_csv(tmp_path/'q.csv'), pd.read_csv(tmp_path/'pairs.csv')
    assert len(p) == 80*79//2 and p.mated.sum() == 10*28
    ref = cli('evaluate', tmp_path/'pairs.csv', tmp_path/'q.csv', '--fmr', '0.01', '-o', tmp_path/'ref.csv')
    assert ref.returncode == 0, ref.stderr
    r0 = pd.read_csv(tmp_path/'ref.csv'); print(r0)
    assert np.isfinite(r0.pauc).all() and (r0.pauc_raw > 0).all()   # FNMR > 0 at the threshold: the orders can matter
    # the bug this guards against: qualities taken by row position (here: the table sorted another way) change the result
    wrong = q.sort_values('quality').assign(path=q.path.to_numpy()); wrong.to_csv(tmp_path/'wrong.csv', index=False)
    assert cli('evaluate', tmp_path/'pairs.csv', tmp_path/'wrong.csv', '--fmr', '0.01', '-o', tmp_path/'w.csv').returncode == 0
    assert pd.read_csv(tmp_path/'w.csv').pauc.tolist() != r0.pauc.tolist()
    for seed in range(3):
        q.sample(frac=1, random_state=seed).to_csv(tmp_path/'q.csv', index=False)
        pp = p.sample(frac=1, random_state=seed + 10)
        if seed == 1: pp = pp.rename(columns={'path1': 'path2', 'path2': 'path1'})
        if seed == 2: pp = pp.astype(str)
        pp.to_csv(tmp_path/'pairs_s.csv', index=False)
        assert cli('evaluate', tmp_path/'pairs_s.csv', tmp_path/'q.csv', '--fmr', '0.01', '-o', tmp_path/'t.csv').returncode == 0
        assert pd.read_csv(tmp_path/'t.csv')[['pauc', 'pauc_raw']].equals(r0[['pauc', 'pauc_raw']])


def test_pairs_sampled_and_seeded(aligned_faces, cli, tmp_path):
    for s, name in [(0, 'a'), (0, 'b'), (1, 'c')]:
        assert cli('pairs', aligned_faces, '-o', tmp_path/f'{name}.csv', '--max-nonmated', 50, '--seed', s, '-q').returncode == 0
    a, b, c = (pd.read_csv(tmp_path/f'{n}.csv') for n in 'abc')
    assert (~a.mated).sum() == 50 and a.mated.sum() == 280 and a.equals(b) and not a.equals(c)
    assert (a.identity1 == a.identity2).eq(a.mated).all()
    assert a.sim[a.mated].mean() > a.sim[~a.mated].mean() + 0.2   # SFace separates the identities


# ---------------------------------------------------------------- other commands

def test_demo(run_cli):
    r = run_cli('demo')
    assert r.returncode == 0, r.stderr
    assert 'quality' in r.stdout or 'no sample faces' in r.stdout


def test_label_minmax(cli, tmp_path):
    pd.DataFrame(dict(path=[f'{i}.png' for i in range(6)], identity=[0, 0, 0, 1, 1, 1], quality=[0.7, 0.9, 0.8, 0.6, 1.0, 0.75])).to_csv(tmp_path/'s.csv', index=False)
    r = cli('label', tmp_path/'s.csv', '-o', tmp_path/'l.parquet')
    assert r.returncode == 0, r.stderr
    l = pd.read_parquet(tmp_path/'l.parquet')
    assert l.label.min() == 0 and l.label.max() == 1 and l.label.argmax() == 4
    one_line_error(cli('label', tmp_path/'nope.csv'), 'nope.csv', 'no such file')


def test_distill_raw_is_diffiqa_r(cli, tmp_path, monkeypatch):
    "--raw trains DifFIQA(R): raw labels and theta = 0 (no L_rc); without it eDifFIQA with centroids and the given theta"
    from ediffiqa_nb import distill
    calls = []
    def fake(images, labels, **kw):
        calls.append(kw); raise SystemExit(0)
    monkeypatch.setattr(distill, 'train_ediffiqa', fake)
    pd.DataFrame(dict(path=['a.png', 'b.png'], identity=[0, 1], label=[0.1, 0.9])).to_csv(tmp_path/'l.csv', index=False)
    for extra in (['--raw'], ['--theta', '0.7']):
        with pytest.raises(SystemExit): cli('distill', tmp_path/'l.csv', tmp_path/'m.pt', *extra)
    fields = distill.DistillRecipe.__dataclass_fields__
    raw, ed = (distill.DistillRecipe.make(kw.get('recipe'), **{k: v for k, v in kw.items() if k in fields}) for kw in calls)   # what each run trains with
    assert raw.theta == 0 and raw.centroid_labels is False, raw
    assert ed.theta == 0.7 and ed.centroid_labels is True, ed
    # theta = 0: the loss is the label term alone (no L_rc), whatever the student's embedding
    import torch
    lf = distill.DistillLoss(raw.eps, raw.theta, centroids=False)
    qh, label = torch.rand(4), torch.rand(4)
    l1 = lf((torch.randn(4, 8), qh), torch.randn(4, 8), label, torch.randn(4, 8))
    l2 = lf((torch.randn(4, 8), qh), torch.randn(4, 8), label, torch.randn(4, 8))
    assert torch.allclose(l1, l2) and torch.allclose(l1, (qh - label).abs().mean())


def test_score_diffiqa_tiny_ddpm(cli, aligned_faces, tmp_path):
    "DifFIQA through the CLI with the bundled tiny DDPM: independent of order and batch (bit-exact), lower for degraded faces"
    ddpm = ROOT/'models'/'ddpm_tiny_celeba.pt'
    imgs = sorted(aligned_faces.rglob('*.png'))[::27]   # 3 faces of 3 identities
    d = tmp_path/'faces'; d.mkdir()
    from ediffiqa_nb.degrade import degrade_strength
    from ediffiqa_nb.core import read_image
    for p in imgs:
        shutil.copy(p, d/p.name)
        Image.fromarray(degrade_strength(read_image(p), 1.0, seed=0)).save(d/f'z_degraded_{p.name}')
    kw = ['--method', 'diffiqa', '--ddpm', ddpm, '-t', 5, '--repeats', 1, '-q', '--device', 'cpu']
    r = cli('score', d, *kw, '-o', tmp_path/'a.csv', '--batch-size', 8)
    assert r.returncode == 0, r.stderr
    pd.DataFrame({'path': sorted(map(str, d.glob('*.png')), reverse=True)}).to_csv(tmp_path/'rev.csv', index=False)
    assert cli('score', tmp_path/'rev.csv', *kw, '-o', tmp_path/'c.csv', '--batch-size', 2).returncode == 0
    a, c = pd.read_csv(tmp_path/'a.csv').set_index('path').quality, pd.read_csv(tmp_path/'c.csv').set_index('path').quality
    assert len(a) == 6 and (a[c.index] == c).all()   # another order and batch size: the same numbers, bit for bit
    clean, degraded = a[[str(d/p.name) for p in imgs]].to_numpy(), a[[str(d/f'z_degraded_{p.name}') for p in imgs]].to_numpy()
    assert degraded.mean() < clean.mean() - 0.01, (clean, degraded)   # degraded faces score lower (per face the tiny DDPM is noisier)
    # --ddpm-weights model: the online weights (what the released inference uses) give other scores than the EMA ones
    assert cli('score', d, *kw, '-o', tmp_path/'m.csv', '--ddpm-weights', 'model').returncode == 0
    m = pd.read_csv(tmp_path/'m.csv').set_index('path').quality
    assert len(m) == 6 and not np.allclose(m[a.index], a, atol=1e-4)


# ---------------------------------------------------------------- the README's shell path

def _readme_shell(name='README.md'):
    "The shell block of the README's quick start (between the `photos -> ...` markers)"
    txt = (ROOT/name).read_text()
    m = re.search(r'<!-- shell-path -->\s*```sh\n(.*?)```', txt, re.S)
    assert m, 'README has no shell-path block'
    return [l.split('#')[0].strip() for l in m.group(1).splitlines() if l.split('#')[0].strip()]


def test_readme_shell_path(tmp_path, monkeypatch, capsys):
    "photos -> prepare -> score -> pairs -> evaluate, exactly as the README writes it (run in-process), on 4 identities x 4 real photos"
    import shlex
    from ediffiqa_nb.cli import main
    images, dev = celeba('dev')
    dev = dev[dev.identity.isin(dev.identity.unique()[:4])].groupby('identity').head(4)
    for p in dev.path: (tmp_path/'photos'/p).parent.mkdir(parents=True, exist_ok=True); shutil.copy(images/p, tmp_path/'photos'/p)
    monkeypatch.chdir(tmp_path)
    cmds = [shlex.split(c) for c in _readme_shell()]
    assert [c[:2] for c in cmds] == [['ediffiqa', 'prepare'], ['ediffiqa', 'score'], ['ediffiqa', 'pairs'], ['ediffiqa', 'evaluate']]
    for c in cmds:
        rc = main(c[1:]); err = capsys.readouterr().err
        assert rc == 0, (c, err)
    assert len(pd.read_csv('aligned/manifest.csv')) == 16 and len(pd.read_csv('scores.csv')) == 16
    tab = pd.read_csv('pauc.csv')
    assert set(tab.limit) == {0.2, 0.3} and set(tab.method) == {'scores'}
    assert Path('edc.png').stat().st_size > 1000


def test_baseline_methods_reproduce_the_committed_label_tables(cli, tmp_path):
    "`ediffiqa score --method embedding_norm|flip|serfiq` writes the label tables of 43_study_labels (issue 17): same values"
    from ediffiqa_nb.diffiqa import lookup_scores
    from scipy.stats import spearmanr
    images, train = celeba('train'); train = train.iloc[::150]
    pd.DataFrame({'path': [str(images/p) for p in train.path], 'identity': train.identity}).to_csv(tmp_path/'m.csv', index=False)
    for method in ('embedding_norm', 'flip', 'serfiq'):
        r = cli('score', tmp_path/'m.csv', '--method', method, '-o', tmp_path/f'{method}.csv', '-q', '--device', 'cpu')
        assert r.returncode == 0, r.stderr
        got = pd.read_csv(tmp_path/f'{method}.csv')
        ref = lookup_scores(got.path.tolist(), ROOT/'models'/f'labels_{method}_celeba.parquet', col='quality')
        if method == 'serfiq':   # other dropout masks (the batches differ): the same ranking, values within 0.01
            assert spearmanr(got.quality, ref)[0] > 0.95 and np.abs(got.quality - ref).max() < 0.01, (got.quality.tolist(), ref.tolist())
        else: np.testing.assert_allclose(got.quality, ref, rtol=1e-4)


def test_every_baseline_method_from_the_command_line(cli, tmp_path):
    "`ediffiqa score --method NAME` for every name of `score.BASELINE_METHODS` on a `prepare` manifest of 2 photos (the landmark methods read its src_landmarks); the old spelling embedding-norm still works"
    from ediffiqa_nb.core import shared_data, skip_msg
    from ediffiqa_nb.score import BASELINE_METHODS
    photos = shared_data('celeba-wild-photos')
    if photos is None: pytest.skip(skip_msg('celeba-wild-photos'))
    for f in sorted((photos/'images').rglob('*.jpg'))[:2]:
        (tmp_path/'photos'/f.parent.name).mkdir(parents=True, exist_ok=True); shutil.copy(f, tmp_path/'photos'/f.parent.name/f.name)
    assert cli('prepare', tmp_path/'photos', tmp_path/'aligned', '-q', '--threads', 1).returncode == 0
    man = tmp_path/'aligned'/'manifest.csv'
    assert pd.read_csv(man).src_landmarks.notna().all()
    got = {}
    for name in BASELINE_METHODS:
        r = cli('score', man, '--method', name, '-o', tmp_path/f'{name}.csv', '-q', '--device', 'cpu', *(['--serfiq-m', 2] if name == 'serfiq' else []))
        assert r.returncode == 0, (name, r.stderr)
        q = pd.read_csv(tmp_path/f'{name}.csv')
        assert len(q) == 2 and np.isfinite(q.quality).all(), (name, q)
        got[name] = tuple(q.quality.round(6))
    assert len(set(got.values())) == len(got), got   # each name reaches its own method
    r = cli('score', man, '--method', 'embedding-norm', '-o', tmp_path/'old.csv', '-q', '--device', 'cpu')   # the old spelling
    assert r.returncode == 0 and tuple(pd.read_csv(tmp_path/'old.csv').quality.round(6)) == got['embedding_norm'], r.stderr
    r = cli('score', tmp_path/'aligned', '--method', 'inter_eye', '-o', tmp_path/'crops.csv', '-q')   # crops without the manifest: no landmarks
    assert r.returncode == 2 and 'no landmarks of the original photo' in r.stderr, r.stderr

def test_diffiqa_method_reproduces_the_committed_diffiqa_table(cli, tmp_path):
    "`ediffiqa score --method diffiqa` at the CPU label setting gives `models/diffiqa_celeba.parquet` (the DifFIQA source of 43_study_labels), wherever the faces are"
    from ediffiqa_nb.diffiqa import lookup_scores
    images, train = celeba('train'); train = train.iloc[::400]
    copies = [tmp_path/'elsewhere'/p for p in train.path]   # the faces under another root: the scores may not depend on where they live
    for p, c in zip(train.path, copies): c.parent.mkdir(parents=True, exist_ok=True); shutil.copy(images/p, c)
    pd.DataFrame({'path': [str(c) for c in copies], 'identity': train.identity}).to_csv(tmp_path/'m.csv', index=False)
    r = cli('score', tmp_path/'m.csv', '--method', 'diffiqa', '--ddpm', ROOT/'models'/'ddpm_tiny_celeba.pt', '--ddpm-weights', 'model',
            '-t', '5', '--repeats', '1', '--reverse-steps', '1', '-o', tmp_path/'d.csv', '-q', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(tmp_path/'d.csv')
    assert len(got) == len(train) >= 9
    np.testing.assert_allclose(got.quality, lookup_scores(got.path.tolist(), ROOT/'models'/'diffiqa_celeba.parquet'), atol=1e-5)
    r = cli('score', tmp_path/'m.csv', '--method', 'diffiqa', '--ddpm', ROOT/'models'/'ddpm_tiny_celeba.pt', '-t', '5', '--repeats', '1',
            '--reverse-steps', '1', '-o', tmp_path/'ema.csv', '-q', '--device', 'cpu')   # the EMA weights give other scores: the test can fail
    assert r.returncode == 0 and np.abs(pd.read_csv(tmp_path/'ema.csv').quality - got.quality).max() > 1e-3
