"Fast pytest checks of the DDPM stack (unet, diffusion, train_ddpm) through the exported modules"
import numpy as np, torch, pytest
from torch import nn
from ediffiqa_nb.unet import Unet, unet_tiny, count_params, freeze_weight_standardization
from ediffiqa_nb.diffusion import Diffusion, cosine_beta_schedule
from ediffiqa_nb.train_ddpm import EMA, save_ddpm, load_ddpm


def test_reference_param_count():
    with torch.device('meta'): m = Unet()
    assert round(count_params(m) / 1e6, 2) == 142.87


def test_schedule_value():
    abar = torch.cumprod(1 - cosine_beta_schedule(), 0)
    assert abs((1 - abar[5]).sqrt().item() - 0.0179) < 5e-5


class _Oracle(nn.Module):
    def __init__(self, x0): super().__init__(); self.x0 = x0
    def forward(self, x, t): return self.x0[torch.cdist(x.flatten(1), self.x0.flatten(1)).argmin(1)]


@pytest.mark.parametrize('eta', [0., 1.])
def test_reverse_oracle(eta):
    x0 = torch.rand(2, 3, 8, 8) * 2 - 1
    d = Diffusion(_Oracle(x0))
    xt = d.q_sample(x0, torch.tensor([5, 2]), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(d.reverse(xt, torch.tensor([5, 2]), eta=eta, generator=torch.Generator().manual_seed(1)), x0)


def test_freeze_and_save_roundtrip(tmp_path):
    torch.manual_seed(0)
    net = unet_tiny(dim=8, dim_mults=(1, 2), attn_dim_head=8).eval()
    dif = Diffusion(net)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad(): y = net(x, torch.tensor([1, 7]))
    save_ddpm(dif, tmp_path / 'ddpm.pt', half=False)
    dif2 = load_ddpm(tmp_path / 'ddpm.pt', 'cpu')
    frozen = freeze_weight_standardization(dif2.model)
    with torch.no_grad(): torch.testing.assert_close(frozen(x, torch.tensor([1, 7])), y, atol=1e-4, rtol=1e-4)


def test_ema_arithmetic():
    lin = nn.Linear(1, 1, bias=False)
    with torch.no_grad(): lin.weight.fill_(0.)
    ema = EMA(0.5, warmup=False); ema.ema_model = nn.Linear(1, 1, bias=False)
    with torch.no_grad(): ema.ema_model.weight.fill_(0.); lin.weight.fill_(4.)
    ema.update(lin); ema.update(lin)
    assert ema.ema_model.weight.item() == pytest.approx(3.0)
