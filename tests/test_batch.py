"The batch engine under the commands: kill -9 and resume (byte-identical outputs), two concurrent ranks, one merge"
import os, sys, time, signal, shutil, subprocess, textwrap, random
from pathlib import Path
import numpy as np, pandas as pd, pytest
from ediffiqa_nb.batch import run_batch, state_dir

ROOT = Path(__file__).resolve().parents[1]
# extra kill points (each ~20-40 s on two busy cores): run with EDIFFIQA_SLOW=1
slow = pytest.mark.skipif(not os.environ.get('EDIFFIQA_SLOW'), reason='slow: set EDIFFIQA_SLOW=1 to run the other kill points')
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
CLI = [sys.executable, '-c', 'from ediffiqa_nb.cli import run; run()']


def _cli(*args, **kw):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=600, **kw)


def _kill_after(args, parts_glob, k, timeout=300):
    "Start the command, SIGKILL it once `k` shards are on disk; the number of shards seen at the kill"
    p = subprocess.Popen([*CLI, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    t0 = time.time()
    try:
        while time.time() - t0 < timeout:
            n = len(list(parts_glob()))
            if n >= k: os.kill(p.pid, signal.SIGKILL); p.wait(); return n
            if p.poll() is not None: pytest.fail(f'the command ended (rc {p.returncode}) before {k} shards were written')
            time.sleep(0.02)
    finally:
        if p.poll() is None: p.kill(); p.wait()
    pytest.fail('timed out waiting for shards')


@pytest.fixture(scope='module')
def faces208(tmp_path_factory, request):
    "208 celeba-wild dev crops (176x176) in identity folders, symlinked into a temporary folder"
    from ediffiqa_nb.core import shared_data, skip_msg
    root = shared_data('celeba-wild')
    if root is None: pytest.skip(skip_msg('celeba-wild'))
    meta = pd.read_csv(root/'meta.csv'); dev = meta[meta.split == 'dev'].iloc[:208]
    d = tmp_path_factory.mktemp('faces208')
    for p in dev.path:
        (d/p).parent.mkdir(parents=True, exist_ok=True); os.symlink(root/'images'/p, d/p)
    return d


def _files(d):
    "{relative path: bytes} of every visible file under `d` (the outputs a user sees)"
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file() and not any(s.startswith('.') for s in p.relative_to(d).parts)}


@pytest.fixture(scope='module')
def score_ref(faces208, tmp_path_factory):
    d = tmp_path_factory.mktemp('score_ref')
    r = _cli('score', faces208, '-o', d/'scores.csv', '--shard-size', 16, '--threads', 1, '-q')
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines()[-1] == 'ediffiqa score: 208 done, 0 failed, 0 skipped'
    return d/'scores.csv'


@pytest.mark.parametrize('k', [5, pytest.param(2, marks=slow), pytest.param(9, marks=slow)])
def test_score_kill9_resume_byte_identical(faces208, score_ref, tmp_path, k):
    out = tmp_path/'scores.csv'
    args = ['score', faces208, '-o', out, '--shard-size', 16, '--threads', 1, '-q']
    seen = _kill_after(args, lambda: state_dir(out).glob('run-*/part-*.pkl'), k + random.Random(k).randint(0, 1))
    assert not out.exists(), 'a killed run must not leave an output that looks complete'
    r = _cli(*args)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().endswith('208 done, 0 failed, 0 skipped'), r.stderr
    assert out.read_bytes() == score_ref.read_bytes(), f'killed after {seen} shards: output differs from an uninterrupted run'
    assert (tmp_path/'scores.failed.csv').read_bytes() == score_ref.with_name('scores.failed.csv').read_bytes()
    assert list(state_dir(out).glob('run-*')) == []


@pytest.fixture(scope='module')
def prepare_ref(faces208, tmp_path_factory):
    d = tmp_path_factory.mktemp('prep_ref')/'aligned'
    r = _cli('prepare', faces208, d, '--threads', 1, '-q')
    assert r.returncode in (0, 3) and 'Traceback' not in r.stderr, r.stderr
    return _files(d), r.returncode


@pytest.mark.parametrize('k', [2, pytest.param(1, marks=slow), pytest.param(3, marks=slow)])
def test_prepare_kill9_resume_byte_identical(faces208, prepare_ref, tmp_path, k):
    dest = tmp_path/'aligned'
    args = ['prepare', faces208, dest, '--threads', 1, '-q']
    seen = _kill_after(args, lambda: state_dir(dest/'manifest.csv').glob('run-*/part-*.pkl'), k)
    assert not (dest/'manifest.csv').exists()
    r = _cli(*args)
    ref, rc = prepare_ref
    assert r.returncode == rc, r.stderr
    got = _files(dest)
    n_ok = len(pd.read_csv(dest/'manifest.csv')); assert n_ok >= 200
    assert sorted(got) == sorted(ref) and len(got) == n_ok + 2   # crops + manifest.csv + failed.csv
    diff = [f for f in got if got[f] != ref[f]]
    assert not diff, f'killed after {seen} shards: {diff[:3]} differ'


JOB = textwrap.dedent('''
    import sys, time, json
    from pathlib import Path
    from ediffiqa_nb.batch import run_batch
    def load(row): return int(Path(row['path']).read_text())
    def process(xs, rows): time.sleep(0.05); return [{'sq': x*x} for x in xs]
    if __name__ == '__main__':
        d = Path(sys.argv[1]); paths = [str(d/f'{i}.txt') for i in range(40)]
        r = run_batch(paths, load, process, out=d/sys.argv[2], shard_size=4, batch_size=2)
        print(json.dumps(dict(merged=r.merged)))
''')


def test_two_concurrent_ranks_merge_once(tmp_path):
    "Two processes (RANK 0/1, WORLD_SIZE 2, no process group) finishing together: exactly one merges, the output equals one process's"
    for i in range(40): (tmp_path/f'{i}.txt').write_text(str(i))
    (tmp_path/'job.py').write_text(JOB)
    import importlib.util
    spec = importlib.util.spec_from_file_location('job', tmp_path/'job.py'); job = importlib.util.module_from_spec(spec); spec.loader.exec_module(job)
    run_batch([str(tmp_path/f'{i}.txt') for i in range(40)], job.load, job.process, out=tmp_path/'single.csv', shard_size=4, batch_size=2)
    for attempt in range(3):   # three races (each costs two process starts, about a second without torch)
        out = f'two{attempt}.csv'
        ps = [subprocess.Popen([sys.executable, tmp_path/'job.py', tmp_path, out], env={**ENV, 'RANK': str(r), 'WORLD_SIZE': '2'},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (0, 1)]
        res = [p.communicate(timeout=120) for p in ps]
        assert all(p.returncode == 0 for p in ps), res
        merged = [eval(o.strip().splitlines()[-1].replace('true', 'True').replace('false', 'False'))['merged'] for o, _ in res]
        assert sum(merged) == 1, merged
        assert (tmp_path/out).read_bytes() == (tmp_path/'single.csv').read_bytes()
        assert list(state_dir(tmp_path/out).glob('run-*')) == []


DIST_JOB = textwrap.dedent('''
    import sys, json, torch.distributed as dist
    from pathlib import Path
    from ediffiqa_nb.batch import run_batch
    def load(row): return int(Path(row['path']).read_text())
    def process(xs, rows): return [{'sq': x*x} for x in xs]
    if __name__ == '__main__':
        dist.init_process_group('gloo')
        d = Path(sys.argv[1]); paths = [str(d/f'{i}.txt') for i in range(30)]
        r = run_batch(paths, load, process, out=d/'dist.csv', shard_size=4, batch_size=2)
        print(json.dumps(dict(merged=r.merged, rank=dist.get_rank())))
        dist.destroy_process_group()
''')


def test_torchrun_style_process_group(tmp_path):
    "Two CPU processes with a gloo process group (as under torchrun): rank 0 merges after a barrier, the result equals one process's"
    import socket
    for i in range(30): (tmp_path/f'{i}.txt').write_text(str(i))
    (tmp_path/'job.py').write_text(DIST_JOB)
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    env = {**ENV, 'WORLD_SIZE': '2', 'LOCAL_WORLD_SIZE': '2', 'MASTER_ADDR': '127.0.0.1', 'MASTER_PORT': str(port)}
    ps = [subprocess.Popen([sys.executable, tmp_path/'job.py', tmp_path], env={**env, 'RANK': str(r), 'LOCAL_RANK': str(r)},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (0, 1)]
    res = [p.communicate(timeout=180) for p in ps]
    assert all(p.returncode == 0 for p in ps), res
    import json
    got = sorted((json.loads(o.strip().splitlines()[-1])['rank'], json.loads(o.strip().splitlines()[-1])['merged']) for o, _ in res)
    assert got == [(0, True), (1, False)]
    assert pd.read_csv(tmp_path/'dist.csv').sq.tolist() == [i*i for i in range(30)]
    assert list(state_dir(tmp_path/'dist.csv').glob('run-*')) == []
