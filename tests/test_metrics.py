"Cross-checks of `ediffiqa_nb.metrics` against slow, literal pure-python implementations of SPEC section 7"
import math, random
import numpy as np
import pytest
from ediffiqa_nb.metrics import fmr_threshold, edc, pauc, erc, template_embeddings, template_tar, pauc_table, exhaustive_pairs


def ref_threshold(nm, fmr):
    "Smallest candidate t (a score or -inf) with #(nm > t)/M <= fmr, by brute force"
    for t in [-math.inf] + sorted(nm):
        if sum(x > t for x in nm) / len(nm) <= fmr + 1e-12: return t


def ref_edc(sims, q, thr):
    "Discard runs of equal quality one by one, recount FNMR over what is left"
    n = len(sims); pts = [(0.0, sum(s <= thr for s in sims) / n)]
    levels = sorted(set(q))
    for lv in levels:
        left = [s for s, qq in zip(sims, q) if qq > lv]
        pts.append(((n - len(left)) / n, (sum(s <= thr for s in left) / len(left)) if left else 0.0))
    return pts


def ref_area(pts, limit, dx=None):
    "Integrate the step function literally: value of the last point at or left of x"
    def val(x): return [f for d, f in pts if d <= x + 1e-15][-1]
    if dx is not None:
        return sum(val(k * dx) * dx for k in range(int(round(limit / dx))))
    xs = sorted({d for d, _ in pts if d < limit} | {limit})
    return sum(val(a) * (b - a) for a, b in zip(xs[:-1], xs[1:]))


@pytest.mark.parametrize('seed', range(8))
def test_edc_matches_reference(seed):
    r = random.Random(seed); n = r.randint(5, 60)
    sims = [round(r.gauss(0.5, 0.3), 2) for _ in range(n)]
    q = [r.randint(0, max(1, n // 4)) for _ in range(n)]          # many ties
    nm = [round(r.gauss(0, 0.3), 2) for _ in range(r.randint(10, 300))]
    fmr = r.choice([0.0, 1e-3, 0.01, 0.05, 0.1, 0.33])
    thr = ref_threshold(nm, fmr)
    assert fmr_threshold(nm, fmr) == thr
    c = edc(sims, q, nm, fmr=fmr)
    ref = ref_edc(sims, q, thr)
    np.testing.assert_allclose(c.discard, [d for d, _ in ref]); np.testing.assert_allclose(c.fnmr, [f for _, f in ref])
    e0 = ref[0][1]
    for L in (0.2, 0.3, 0.5, 1.0):
        raw = ref_area(ref, L); p = pauc(c, L)
        assert p.raw == pytest.approx(raw, abs=1e-12)
        assert p.minus_best == pytest.approx(raw - (e0**2 / 2 - max(0, e0 - L)**2 / 2), abs=1e-12)
        if e0 > 0: assert p.pauc == pytest.approx(raw / (e0 * L))
        else: assert math.isnan(p.pauc)
    for L in (0.2, 0.3):
        assert pauc(c, L, grid=0.05).raw == pytest.approx(ref_area(ref, L, dx=0.05), abs=1e-12)


def test_image_qualities_and_pairs_table():
    r = np.random.default_rng(0); ids = np.repeat(np.arange(10), 4); P, M = exhaustive_pairs(ids)
    assert len(P) == 40 * 39 // 2 and M.sum() == 10 * 6
    S = np.where(M, r.normal(0.5, 0.3, len(P)), r.normal(0, 0.2, len(P))); qi = r.integers(0, 5, 40).astype(float)
    qp = [min(qi[i], qi[j]) for i, j in P[M]]
    c = edc(S[M], qp, S[~M]); c2 = edc(S[M], qi[P[M]], S[~M])
    np.testing.assert_allclose(c.fnmr, c2.fnmr)
    t = pauc_table({'a': qi}, P, S, M, limits=(0.3,))
    assert t.pauc.item() == pytest.approx(pauc(c, 0.3).pauc)


def test_erc_fixed_nonmated_equals_edc_on_grid():
    "With non-mated qualities above every cut, the ERC threshold never changes: ERC = EDC sampled at its run ends"
    r = np.random.default_rng(1); s = r.normal(0.5, 0.3, 40); q = r.permutation(40).astype(float); nm = r.normal(0, .3, 500)
    g = np.arange(0, 40) / 40
    ce = erc(s, q, nm, np.full(500, 1e9), fmr=0.01, grid=g); c = edc(s, q, nm, fmr=0.01)
    np.testing.assert_allclose(ce.fnmr, c.fnmr[:40])


def test_template_tar_reference():
    r = np.random.default_rng(2); n_t, d = 30, 16
    ids = np.repeat(np.arange(10), 3); frames = 4
    emb = r.normal(size=(n_t * frames, d)); q = r.random(n_t * frames)
    tids = np.repeat(np.arange(n_t), frames); fid = ids[tids]
    for mode in ('best', 'weighted', 'mean'):
        keys, te = template_embeddings(emb, q, tids, mode)
        ref = []
        for t in range(n_t):
            e = emb[tids == t]; e = e / np.linalg.norm(e, axis=1, keepdims=True); w = q[tids == t]
            v = e[np.argmax(w)] if mode == 'best' else (w[:, None] * e).sum(0) if mode == 'weighted' else e.mean(0)
            ref.append(v / np.linalg.norm(v))
        np.testing.assert_allclose(te, np.array(ref), atol=1e-12)
        sims = te @ te.T; iu = np.triu_indices(n_t, 1); mated = ids[iu[0]] == ids[iu[1]]
        tar = template_tar(emb, q, tids, fid, mode, fars=(1e-3, 0.1))
        for far, v in tar.items():
            t = ref_threshold(list(sims[iu][~mated]), far)
            assert v == pytest.approx(np.mean(sims[iu][mated] > t))
