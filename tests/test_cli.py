import importlib.util, shutil
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

COMMANDS = ['prepare', 'score', 'train-ddpm', 'label', 'distill', 'evaluate', 'bench', 'demo']

def has(mod): return importlib.util.find_spec(f'ediffiqa_nb.{mod}') is not None

def one_line_error(r, *needles):
    "Exit code 2, a single stderr line, containing every needle"
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.strip() and 'Warning' not in l]
    assert len(lines) == 1, r.stderr
    for n in needles: assert n in lines[0], (n, lines[0])
    assert 'Traceback' not in r.stderr
    return lines[0]

@pytest.fixture
def cli(capsys):
    "Run `main` in-process (fast); same fields as a CompletedProcess"
    from types import SimpleNamespace
    from ediffiqa_nb.cli import main
    def _run(*args):
        capsys.readouterr(); rc = main([str(a) for a in args]); o = capsys.readouterr()
        return SimpleNamespace(returncode=rc, stdout=o.out, stderr=o.err)
    return _run

def test_help_lists_commands(run_cli):
    r = run_cli('--help')
    assert r.returncode == 0
    for c in COMMANDS: assert c in r.stdout

def test_each_command_has_help(capsys):
    from ediffiqa_nb.cli import main
    for cmd in COMMANDS:
        with pytest.raises(SystemExit) as e: main([cmd, '--help'])
        assert e.value.code == 0 and f'usage: ediffiqa {cmd}' in capsys.readouterr().out

def test_no_command_prints_help_and_fails(run_cli):
    r = run_cli()
    assert r.returncode == 1
    assert 'usage: ediffiqa' in r.stdout

def test_unknown_command_is_an_error(run_cli):
    r = run_cli('no-such-command')
    assert r.returncode == 2
    assert 'invalid choice' in r.stderr

@pytest.fixture
def bad_inputs(tmp_path, celeba):
    "Folders built from real faces: good (3 celeba crops + their 112x112 centres), text file named x.jpg, blank image, empty"
    imgs = sorted((celeba/'images').rglob('*.jpg'))[:3]
    d = {k: tmp_path/k for k in ['good', 'aligned', 'text', 'blank', 'empty']}
    for p in d.values(): p.mkdir()
    for p in imgs:
        shutil.copy(p, d['good']/f'{p.parent.name}_{p.name}')
        Image.open(p).crop((32, 32, 144, 144)).save(d['aligned']/f'{p.parent.name}_{p.name}')
    shutil.copy(imgs[0], d['text']/'ok.jpg'); (d['text']/'x.jpg').write_text('this is not an image')
    Image.fromarray(np.full((480, 640, 3), 200, np.uint8)).save(d['blank']/'blank.jpg')
    return d

def test_missing_path(cli, tmp_path):
    one_line_error(cli('score', tmp_path/'nope'), 'nope', 'no such file or folder')

def test_empty_folder(cli, bad_inputs):
    one_line_error(cli('score', bad_inputs['empty']), str(bad_inputs['empty']), 'no images found')

def test_text_file_named_jpg(run_cli, cli, bad_inputs):
    one_line_error(run_cli('score', bad_inputs['text'], '--margin', '32'), 'x.jpg', 'not an image file')
    one_line_error(cli('prepare', bad_inputs['text'], bad_inputs['empty']/'out'), 'x.jpg', 'not an image file')

def test_unaligned_crop_suggests_margin_or_detect(cli, bad_inputs):
    one_line_error(cli('score', bad_inputs['good'], '-q'), 'not an aligned 112x112 face', '--detect', '--margin')

def test_blank_photo_has_no_face(run_cli, bad_inputs):
    r = run_cli('score', bad_inputs['blank'], '--detect', '-q')
    if has('detect'): one_line_error(r, 'blank.jpg', 'no face')
    else: one_line_error(r, 'not available yet: module detect')

@pytest.mark.parametrize('args', [['aligned'], ['good', '--margin', '32']])
def test_score_real_faces(run_cli, cli, bad_inputs, tmp_path, args):
    out = tmp_path/'q.csv'
    r = (run_cli if args[0] == 'aligned' else cli)('score', bad_inputs[args[0]], *args[1:], '-o', out, '-q')
    if r.returncode == 2 and 'not available yet' in r.stderr:
        pytest.skip(f'eDifFIQA model not available yet: {r.stderr.strip()}')
    assert r.returncode == 0, r.stderr
    import pandas as pd
    df = pd.read_csv(out)
    assert len(df) == 3 and np.isfinite(df.quality).all()

def test_manifest_without_path_column(cli, tmp_path):
    (tmp_path/'m.csv').write_text('file,identity\na.jpg,1\n')
    one_line_error(cli('score', tmp_path/'m.csv'), 'm.csv', "no 'path' column")

def test_demo(run_cli):
    r = run_cli('demo')
    assert r.returncode == 0, r.stderr
    assert 'demo' in r.stdout or 'quality' in r.stdout

def _synthetic(d, n_id=15, per=4, seed=0):
    import pandas as pd
    g = np.random.default_rng(seed); n = n_id*per; ids = np.repeat(np.arange(n_id), per)
    paths = np.array([f'{i:02d}/{k}.jpg' for i in range(n_id) for k in range(per)])
    q = g.uniform(0, 1, n); i, j = np.triu_indices(n, 1); mated = ids[i] == ids[j]
    sim = np.where(mated, 0.2 + 0.6*np.minimum(q[i], q[j]) + g.normal(0, 0.1, len(i)), g.normal(0, 0.1, len(i)))
    pd.DataFrame(dict(path1=paths[i], path2=paths[j], mated=mated, sim=sim)).to_csv(d/'pairs.csv', index=False)
    pd.DataFrame(dict(path=paths, quality=q)).to_csv(d/'good.csv', index=False)
    pd.DataFrame(dict(path=paths, quality=g.uniform(0, 1, n))).to_parquet(d/'random.parquet', index=False)

@pytest.mark.skipif(not has('metrics'), reason='metrics module not available yet')
def test_evaluate(run_cli, tmp_path):
    _synthetic(tmp_path)
    r = run_cli('evaluate', tmp_path/'pairs.csv', tmp_path/'good.csv', tmp_path/'random.parquet', '-o', tmp_path/'t.csv', '--plot', tmp_path/'edc.png')
    assert r.returncode == 0, r.stderr
    assert 'good' in r.stdout and 'random' in r.stdout
    import pandas as pd
    t = pd.read_csv(tmp_path/'t.csv').set_index(['method', 'limit']).pauc
    assert t['good', 0.3] < t['random', 0.3]
    assert (tmp_path/'edc.png').stat().st_size > 1000

def test_evaluate_missing_quality(cli, tmp_path):
    _synthetic(tmp_path)
    import pandas as pd
    pd.read_csv(tmp_path/'good.csv').iloc[:-1].to_csv(tmp_path/'short.csv', index=False)
    one_line_error(cli('evaluate', tmp_path/'pairs.csv', tmp_path/'short.csv'), 'short.csv', 'has no quality for')

@pytest.mark.skipif(not has('labels'), reason='labels module not available yet')
def test_label_minmax(cli, tmp_path):
    import pandas as pd
    pd.DataFrame(dict(path=[f'{i}.png' for i in range(6)], identity=[0, 0, 0, 1, 1, 1], quality=[0.7, 0.9, 0.8, 0.6, 1.0, 0.75])).to_csv(tmp_path/'s.csv', index=False)
    r = cli('label', tmp_path/'s.csv', '-o', tmp_path/'l.parquet')
    assert r.returncode == 0, r.stderr
    l = pd.read_parquet(tmp_path/'l.parquet')
    assert l.label.min() == 0 and l.label.max() == 1 and l.label.argmax() == 4
    one_line_error(cli('label', tmp_path/'nope.csv'), 'nope.csv', 'no such file')

@pytest.mark.skipif(not (has('diffiqa') and has('train_ddpm') and has('fr')), reason='DifFIQA modules not available yet')
def test_score_diffiqa_tiny_ddpm(cli, bad_inputs, tmp_path):
    "DifFIQA through the CLI with a tiny *untrained* DDPM (mechanics only) on 3 real aligned faces"
    from ediffiqa_nb.train_ddpm import build_ddpm, save_ddpm
    save_ddpm(build_ddpm(dim=8), tmp_path/'ddpm.pt')
    r = cli('score', bad_inputs['aligned'], '--method', 'diffiqa', '--ddpm', tmp_path/'ddpm.pt', '-t', 1, '--repeats', 1, '-q', '-o', tmp_path/'d.csv', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    import pandas as pd
    q = pd.read_csv(tmp_path/'d.csv').quality
    assert len(q) == 3 and ((q > -1) & (q <= 1.0001)).all()
    one_line_error(cli('score', bad_inputs['aligned'], '--method', 'diffiqa', '-q'), '--ddpm')
