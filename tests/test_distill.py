"Distillation: ONNX / TorchScript export equivalence, checkpoint round trip, and the permutation property of IWBF rank optimisation"
import numpy as np, pytest, torch
from ediffiqa_nb.distill import QualityRegressor, TinyFaceNet, export_onnx, export_torchscript, save_quality_model, QualityModel
from ediffiqa_nb.labels import rank_optimise, minmax

@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return QualityRegressor(TinyFaceNet(16)).eval()

def test_onnx_export_matches_torch(model, tmp_path):
    diff = export_onnx(model, tmp_path/'m.onnx')
    assert diff < 1e-4
    x = torch.rand(6, 3, 112, 112) * 2 - 1
    with torch.no_grad(): ref = model(x)[1].numpy()
    q = QualityModel.load(tmp_path/'m.onnx', device='cpu', bs=4)(x)   # batched, dynamic batch axis
    assert q.shape == (6,) and np.abs(q - ref).max() < 1e-4

def test_torchscript_export_matches_torch(model, tmp_path):
    assert export_torchscript(model, tmp_path/'m.ts') < 1e-4

def test_checkpoint_roundtrip_fp16(model, tmp_path):
    p = save_quality_model(model, tmp_path/'m.pt', arch='tiny')
    x = torch.rand(3, 3, 112, 112) * 2 - 1
    with torch.no_grad(): ref = model(x)[1].numpy()
    assert np.abs(QualityModel.load(p, device='cpu')(x) - ref).max() < 1e-2

@pytest.mark.parametrize('seed', [0, 1, 2])
def test_rank_optimise_is_permutation(seed):
    g = np.random.default_rng(seed)
    n_id, n_img, d = 12, 15, 16
    emb = (g.normal(size=(n_id, 1, d)) + 0.5 * g.normal(size=(n_id, n_img, d))).reshape(-1, d)
    ids = np.repeat(np.arange(n_id), n_img)
    q = g.random(n_id * n_img)
    for theta in (0.001, 0.5):
        out = rank_optimise(q, emb, ids, C=4, theta=theta, R=3, seed=seed)
        assert out.shape == q.shape
        np.testing.assert_array_equal(np.sort(out), np.sort(q))      # same multiset of values
    np.testing.assert_array_equal(rank_optimise(q, emb, ids, theta=0.0, R=1), q)

def test_rank_optimise_with_ties_and_singletons():
    q = np.array([0.5, 0.5, 0.2, 0.9, 0.5])
    emb = np.random.default_rng(0).normal(size=(5, 4))
    out = rank_optimise(q, emb, [1, 1, 1, 2, 3], C=2, theta=0.7, R=2)
    np.testing.assert_array_equal(np.sort(out), np.sort(q))
