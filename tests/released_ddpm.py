"""A re-statement of the released DifFIQA DDPM (LSIbabnikz/DifFIQA, `diffiqa/diffusion_base/diff_unet.py`, `diff_gauss.py`,
`diff_util.py`) and of the `ema_pytorch.EMA` state the released trainer saves, written from reading that code.

Used ONLY by the tests: it writes checkpoints in the released trainer's layout and gives the released network's outputs
to compare `ediffiqa_nb.unet.Unet` against. It is deliberately naive (explicit einsums, no fast paths) and keeps the
released module nesting so that its state-dict keys are the released ones. `heads`/`dim_head` are fixed at 4 x 32 in the
released code; they are arguments here only so that small configurations can be tested.
"""
import math
import torch
from torch import nn
import torch.nn.functional as F


def _eps(x): return 1e-5 if x.dtype == torch.float32 else 1e-3


class WSConv(nn.Conv2d):
    "Weight-standardised conv; eps chosen by the *input* dtype"
    def forward(self, x):
        w = self.weight
        mu = w.mean(dim=[1, 2, 3], keepdim=True)
        var = ((w - mu) ** 2).mean(dim=[1, 2, 3], keepdim=True)
        return F.conv2d(x, (w - mu) / torch.sqrt(var + _eps(x)), self.bias, self.stride, self.padding, self.dilation, self.groups)


class ChanLayerNorm(nn.Module):
    "LayerNorm over channels, gain only"
    def __init__(self, c): super().__init__(); self.g = nn.Parameter(torch.ones(1, c, 1, 1))
    def forward(self, x):
        mu = x.mean(1, keepdim=True)
        var = ((x - mu) ** 2).mean(1, keepdim=True)
        return (x - mu) / torch.sqrt(var + _eps(x)) * self.g


class PreNorm(nn.Module):
    def __init__(self, c, fn): super().__init__(); self.fn = fn; self.norm = ChanLayerNorm(c)
    def forward(self, x): return self.fn(self.norm(x))


class Residual(nn.Module):
    def __init__(self, fn): super().__init__(); self.fn = fn
    def forward(self, x): return self.fn(x) + x


class PosEmb(nn.Module):
    def __init__(self, dim): super().__init__(); self.dim = dim
    def forward(self, t):
        half = self.dim // 2
        f = torch.exp(torch.arange(half, device=t.device) * -(math.log(10000) / (half - 1)))
        a = t[:, None] * f[None, :]
        return torch.cat((a.sin(), a.cos()), dim=-1)


class Block(nn.Module):
    def __init__(self, cin, cout, groups=8):
        super().__init__(); self.proj = WSConv(cin, cout, 3, padding=1); self.norm = nn.GroupNorm(groups, cout); self.act = nn.SiLU()
    def forward(self, x, ss=None):
        x = self.norm(self.proj(x))
        if ss is not None: x = x * (ss[0] + 1) + ss[1]
        return self.act(x)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, tdim, groups=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(tdim, cout * 2))
        self.block1, self.block2 = Block(cin, cout, groups), Block(cout, cout, groups)
        self.res_conv = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
    def forward(self, x, temb):
        e = self.mlp(temb)[:, :, None, None]
        return self.block2(self.block1(x, (e[:, :e.shape[1] // 2], e[:, e.shape[1] // 2:]))) + self.res_conv(x)


def _heads(t, heads):  # (b, heads*c, h, w) -> (b, heads, c, h*w)
    b, hc, h, w = t.shape
    return t.reshape(b, heads, hc // heads, h * w)


class LinearAttention(nn.Module):
    def __init__(self, c, heads=4, dim_head=32):
        super().__init__(); self.heads, self.scale = heads, dim_head ** -0.5
        self.to_qkv = nn.Conv2d(c, 3 * heads * dim_head, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(heads * dim_head, c, 1), ChanLayerNorm(c))
    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = (_heads(u, self.heads) for u in self.to_qkv(x).chunk(3, dim=1))
        q = torch.softmax(q, dim=-2) * self.scale
        k = torch.softmax(k, dim=-1)
        v = v / (h * w)
        ctx = torch.einsum('bhdn,bhen->bhde', k, v)
        o = torch.einsum('bhde,bhdn->bhen', ctx, q)
        return self.to_out(o.reshape(b, -1, h, w))


class Attention(nn.Module):
    def __init__(self, c, heads=4, dim_head=32, scale=10):
        super().__init__(); self.heads, self.scale = heads, scale
        self.to_qkv = nn.Conv2d(c, 3 * heads * dim_head, 1, bias=False)
        self.to_out = nn.Conv2d(heads * dim_head, c, 1)
    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = (_heads(u, self.heads) for u in self.to_qkv(x).chunk(3, dim=1))
        q = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)   # F.normalize along the last (pixel) axis
        k = k / k.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        a = torch.softmax(torch.einsum('bhdi,bhdj->bhij', q, k) * self.scale, dim=-1)
        o = torch.einsum('bhij,bhdj->bhid', a, v)                # (b, heads, n, d)
        return self.to_out(o.permute(0, 1, 3, 2).reshape(b, -1, h, w))


class Unet(nn.Module):
    "The released Unet (self_condition False, learned_variance False, learned_sinusoidal_cond False)"
    def __init__(self, dim, dim_mults=(1, 2, 4, 8), channels=3, heads=4, dim_head=32, groups=8):
        super().__init__()
        self.channels, self.out_dim, self.self_condition, self.learned_sinusoidal_cond = channels, channels, False, False
        self.init_conv = nn.Conv2d(channels, dim, 7, padding=3)
        dims = [dim] + [dim * m for m in dim_mults]
        pairs = list(zip(dims[:-1], dims[1:]))
        tdim = 4 * dim
        self.time_mlp = nn.Sequential(PosEmb(dim), nn.Linear(dim, tdim), nn.GELU(), nn.Linear(tdim, tdim))
        la = lambda c: Residual(PreNorm(c, LinearAttention(c, heads, dim_head)))
        self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
        for i, (a, b) in enumerate(pairs):
            last = i == len(pairs) - 1
            self.downs.append(nn.ModuleList([ResnetBlock(a, a, tdim, groups), ResnetBlock(a, a, tdim, groups), la(a),
                                             nn.Conv2d(a, b, 3, padding=1) if last else nn.Conv2d(a, b, 4, 2, 1)]))
        m = dims[-1]
        self.mid_block1 = ResnetBlock(m, m, tdim, groups)
        self.mid_attn = Residual(PreNorm(m, Attention(m, heads, dim_head)))
        self.mid_block2 = ResnetBlock(m, m, tdim, groups)
        for i, (a, b) in enumerate(reversed(pairs)):
            last = i == len(pairs) - 1
            self.ups.append(nn.ModuleList([ResnetBlock(b + a, b, tdim, groups), ResnetBlock(b + a, b, tdim, groups), la(b),
                                           nn.Conv2d(b, a, 3, padding=1) if last else
                                           nn.Sequential(nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(b, a, 3, padding=1))]))
        self.final_res_block = ResnetBlock(2 * dim, dim, tdim, groups)
        self.final_conv = nn.Conv2d(dim, channels, 1)

    def forward(self, x, time, x_self_cond=None):
        x = self.init_conv(x); r = x.clone()
        t = self.time_mlp(time)
        skips = []
        for b1, b2, at, dn in self.downs:
            x = b1(x, t); skips.append(x)
            x = at(b2(x, t)); skips.append(x)
            x = dn(x)
        x = self.mid_block2(self.mid_attn(self.mid_block1(x, t)), t)
        for b1, b2, at, up in self.ups:
            x = b1(torch.cat((x, skips.pop()), 1), t)
            x = at(b2(torch.cat((x, skips.pop()), 1), t))
            x = up(x)
        return self.final_conv(self.final_res_block(torch.cat((x, r), 1), t))


def _cosine_betas(T, s=0.008):
    x = torch.linspace(0, T, T + 1, dtype=torch.float64)
    ac = torch.cos(((x / T) + s) / (1 + s) * math.pi * 0.5) ** 2
    ac = ac / ac[0]
    return torch.clip(1 - ac[1:] / ac[:-1], 0, 0.999)


class GaussianDiffusion(nn.Module):
    "The released GaussianDiffusion's state: the model plus its float32 schedule buffers (cosine, p2 gamma 0)"
    def __init__(self, model, image_size=112, timesteps=1000, T=100):
        super().__init__()
        self.model, self.image_size, self.T = model, image_size, T
        betas = _cosine_betas(timesteps)
        ac = torch.cumprod(1 - betas, 0)
        acp = F.pad(ac[:-1], (1, 0), value=1.)
        post_var = betas * (1 - acp) / (1 - ac)
        for name, v in [('betas', betas), ('alphas_cumprod', ac), ('alphas_cumprod_prev', acp),
                        ('sqrt_alphas_cumprod', ac.sqrt()), ('sqrt_one_minus_alphas_cumprod', (1 - ac).sqrt()),
                        ('log_one_minus_alphas_cumprod', (1 - ac).log()), ('sqrt_recip_alphas_cumprod', (1 / ac).sqrt()),
                        ('sqrt_recipm1_alphas_cumprod', (1 / ac - 1).sqrt()), ('posterior_variance', post_var),
                        ('posterior_log_variance_clipped', post_var.clamp(min=1e-20).log()),
                        ('posterior_mean_coef1', betas * acp.sqrt() / (1 - ac)),
                        ('posterior_mean_coef2', (1 - acp) * (1 - betas).sqrt() / (1 - ac)),
                        ('p2_loss_weight', (1 + ac / (1 - ac)) ** -0.)]:
            self.register_buffer(name, v.to(torch.float32))


class EmaState(nn.Module):
    "The ema_pytorch.EMA module of the released trainer's time: online_model, ema_model, initted, step"
    def __init__(self, online, ema, step=0):
        super().__init__()
        self.online_model, self.ema_model = online, ema
        self.register_buffer('initted', torch.Tensor([True]))
        self.register_buffer('step', torch.tensor([step]))


def ema_pytorch_updates(weights, beta=0.995, update_every=10, update_after_step=100, power=2/3):
    "The EMA value after calling ema_pytorch's `update()` once per online value in `weights` (scalars)"
    ema, step, initted = None, 0, False
    for w in weights:
        s = step; step += 1
        if s % update_every: continue
        if s <= update_after_step: ema = w; continue
        if not initted: ema = w; initted = True
        epoch = max(step - update_after_step - 1, 0)
        decay = 0. if epoch <= 0 else min(max(1 - (1 + epoch) ** -power, 0.), beta)
        ema = ema - (ema - w) * (1 - decay)
    return ema


def released_checkpoint(online: GaussianDiffusion, ema: GaussianDiffusion, step=1000):
    "A dict laid out as the released `Trainer.save` writes it"
    return {'step': step, 'model': online.state_dict(), 'opt': {'state': {}, 'param_groups': []},
            'ema': EmaState(online, ema, step).state_dict(), 'scaler': None}
