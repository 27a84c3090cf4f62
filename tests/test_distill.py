"Distillation across modules: ONNX export + `QualityModel` batching, checkpoint round trip with the training recipe, IWBF rank optimisation against the released code, `ediffiqa distill --raw`"
import numpy as np, pytest, torch
from ediffiqa_nb.quality import QualityRegressor, TinyFaceNet, export_onnx, save_quality_model, QualityModel
from ediffiqa_nb.distill import DistillRecipe, train_ediffiqa
from ediffiqa_nb.labels import rank_optimise, minmax, cluster_identities, draw_mated_pairs
import released_optimize
import ediffiqa_nb.labels as labels_mod

@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return QualityRegressor(TinyFaceNet(16)).eval()

def test_onnx_export_matches_torch(model, tmp_path):
    diff = export_onnx(model, tmp_path/'m.onnx')
    assert diff < 1e-4
    x = torch.rand(6, 3, 112, 112) * 2 - 1
    with torch.no_grad(): ref = model(x)[1].numpy()
    q = QualityModel.load(tmp_path/'m.onnx', device='cpu', batch_size=4)(x)   # batched, dynamic batch axis
    assert q.shape == (6,) and np.abs(q - ref).max() < 1e-4

def test_checkpoint_roundtrip_fp16(model, tmp_path):
    p = save_quality_model(model, tmp_path/'m.pt', arch='tiny')
    x = torch.rand(3, 3, 112, 112) * 2 - 1
    with torch.no_grad(): ref = model(x)[1].numpy()
    assert np.abs(QualityModel.load(p, device='cpu')(x) - ref).max() < 1e-2

def test_trained_model_carries_its_recipe(tmp_path, capsys):
    "train_ediffiqa -> model.recipe -> save_quality_model(recipe=...) -> QualityModel.load(...).meta rebuilds the same recipe"
    g = np.random.default_rng(0)
    imgs = g.integers(0, 256, (24, 112, 112, 3), dtype=np.uint8)
    torch.manual_seed(0); tiny = TinyFaceNet(16).eval()
    m, rec = train_ediffiqa(imgs, imgs.mean((1, 2, 3)), teacher=tiny, backbone=tiny, identities=np.arange(24) // 4,
                            device='cpu', epochs=1, batch_size=8, valid_every=4, p=0.3)
    assert capsys.readouterr().out.count('train_ediffiqa: DistillRecipe(') == 1       # printed once, in one line
    want = DistillRecipe(epochs=1, batch_size=8, valid_every=4, top=0.3)
    assert m.recipe == rec.attrs['recipe'] == want.to_dict()
    q = QualityModel.load(save_quality_model(m, tmp_path/'m.pt', arch='tiny', recipe=m.recipe), device='cpu')
    assert DistillRecipe.make(q.meta['recipe']) == want
    x = torch.rand(3, 3, 112, 112) * 2 - 1
    with torch.no_grad(): ref = m(x)[1].numpy()
    assert np.abs(q(x) - ref).max() < 1e-2

def test_rank_optimise_with_ties_and_singletons():
    q = np.array([0.5, 0.5, 0.2, 0.9, 0.5])
    emb = np.random.default_rng(0).normal(size=(5, 4))
    out = rank_optimise(q, emb, [1, 1, 1, 2, 3], C=2, theta=0.7, R=2)
    np.testing.assert_array_equal(np.sort(out), np.sort(q))

def _released_case(seed, n_id=10, n_img=40, d=16):
    g = np.random.default_rng(seed)
    emb = (g.normal(size=(n_id, 1, d)) + 0.7 * g.normal(size=(n_id, n_img, d))).reshape(-1, d)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)                   # the released code clusters normalised embeddings
    ids = np.repeat(np.arange(n_id), n_img)
    q = np.round(g.random(n_id * n_img), 2)                               # rounded: ties in the prior
    return q, emb, ids

@pytest.mark.parametrize('seed,theta', [(0, 0.001), (1, 0.001), (2, 0.01), (3, 0.1)])
def test_rank_optimise_matches_released_optimize(seed, theta):
    "Same clusters and partner draws -> the same permutation as a transcription of the released optimize.py"
    q, emb, ids = _released_case(seed)
    R, C = 4, 10                                                          # L = 9 N pairs: theta 0.001 moves ranks
    clusters = cluster_identities(emb, ids, C=C, seed=seed)
    draws = [draw_mated_pairs(clusters, ids, seed=100 * seed + r) for r in range(R)]
    ours = rank_optimise(q, emb, ids, theta=theta, R=R, draws=draws)
    # the released inputs: {identity: {cluster: [samples]}}, and a choice() that replays our draws
    cl = {}
    for i, (ident, c) in enumerate(zip(ids, clusters)): cl.setdefault(int(ident), {}).setdefault(int(c), []).append(i)
    replay = {(r, int(a), int(clusters[b])): int(b) for r, pr in enumerate(draws) for a, b in pr}
    choice = lambda it, sample, cluster_id, samples: replay[(it, sample, cluster_id)]
    ref = released_optimize.optimize({i: float(v) for i, v in enumerate(q)}, cl, dict(enumerate(emb)), choice, epsilon=theta, iterations=R)
    ref = np.array([ref[i] for i in range(len(q))])
    moved = (np.argsort(ours, kind='stable') != np.argsort(q, kind='stable')).mean()
    assert moved > 0                                                      # the case exercises re-ordering
    np.testing.assert_array_equal(ours, ref)

def test_rank_optimise_clusters_once(monkeypatch):
    "K-means is fitted once per call: the draws of one call share one clustering"
    q, emb, ids = _released_case(5)
    calls = []
    def counting(*a, **k): calls.append(1); return cluster_identities(*a, **k)
    monkeypatch.setattr(labels_mod, 'cluster_identities', counting)
    labels_mod.rank_optimise(q, emb, ids, C=5, R=3)
    assert len(calls) == 1
    cl = cluster_identities(emb, ids, C=5, seed=7)
    for r in range(3):
        pr = draw_mated_pairs(cl, ids, seed=r)
        assert (cl[pr[:, 0]] != cl[pr[:, 1]]).all() and (ids[pr[:, 0]] == ids[pr[:, 1]]).all()
        assert np.bincount(pr[:, 0], minlength=len(q)).tolist() == [4] * len(q)   # one partner per other cluster

def test_cli_distill_raw_is_diffiqa_r(tmp_path, monkeypatch):
    "`ediffiqa distill --raw` trains DifFIQA(R): raw labels (no centroid correction) and theta = 0 (no L_rc)"
    import pandas as pd
    import ediffiqa_nb.distill as distill
    from ediffiqa_nb.cli import main
    seen = {}
    def fake_train(images, labels, **kw):
        seen.update(kw); m = QualityRegressor(TinyFaceNet(16)).eval(); m.recipe = {'stand-in': True}   # as the trainers attach it
        return m, pd.DataFrame(dict(epoch=[0]))
    monkeypatch.setattr(distill, 'train_ediffiqa', fake_train)
    monkeypatch.setattr(distill, 'save_quality_model', lambda m, out, **kw: out)
    lab = tmp_path/'labels.csv'
    pd.DataFrame(dict(path=[str(tmp_path/f'{i}.jpg') for i in range(4)], identity=[0, 0, 1, 1], label=[0.1, 0.5, 0.7, 1.0])).to_csv(lab, index=False)
    assert main(['distill', str(lab), str(tmp_path/'m.pt'), '--raw']) == 0
    run = {'teacher', 'backbone', 'identities', 'valid_pairs', 'device', 'path', 'loss_func', 'progress', 'return_learner'}
    r = distill.DistillRecipe.make(seen.get('recipe'), **{k: v for k, v in seen.items() if k not in run | {'recipe'}})
    assert (r.theta, r.eps, r.centroid_labels) == (0, 0, False), r                # however the CLI fills the recipe
