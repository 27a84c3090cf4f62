"Cross-checks of `ediffiqa_nb.metrics` against slow, literal pure-python implementations of SPEC section 7"
import math, random
import numpy as np
import pytest
from ediffiqa_nb.metrics import fmr_threshold, edc, fm_edc, pauc, template_embeddings, template_tar, pauc_table, exhaustive_pairs
import reference_edc as R


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


PAIR_FNS = {'min': min, 'max': max, 'product': lambda a, b: a * b, 'mean': lambda a, b: (a + b) / 2}


def _ref_case(seed):
    "Random pairs with many ties in similarities and qualities (similarities on a 0.05 grid, integer qualities)"
    r = np.random.default_rng(seed); n = int(r.integers(3, 80))
    sims = np.round(r.normal(0.5, 0.25, n) / 0.05) * 0.05
    q = r.integers(-3, max(2, n // 6), size=(n, 2)).astype(float)
    return r, sims, q


@pytest.mark.parametrize('seed', range(40))
@pytest.mark.parametrize('error_type', ['FNMR', 'FMR'])
def test_edc_matches_reference_code(seed, error_type):
    "Against the transcription of the reference `compute_edc`: every threshold mode, pair-quality function and the 'lt' rule"
    r, sims, q = _ref_case(seed + (1000 if error_type == 'FMR' else 0))
    pair_name = list(PAIR_FNS)[seed % 4]; ref_fn = PAIR_FNS[pair_name]
    pairs = R.sample_pairs(sims, q[:, 0], q[:, 1])
    ours_fn = edc if error_type == 'FNMR' else fm_edc
    thr = float(r.choice(sims))                     # an explicit threshold equal to some scores: the rules matter
    qtl = float(r.choice([0.0, 0.1, 0.37, 0.5, 1.0])); se = float(r.choice([0.01, 0.05, 0.2, 0.5]))
    modes = [(dict(similarity_score_threshold=thr), dict(threshold=thr)),
             (dict(similarity_score_quantile=qtl), dict(threshold=float(np.quantile(sims, qtl)))),
             (dict(starting_error=se), dict(start_error=se))]
    for ref_kw, our_kw in modes:
        ref = R.compute_edc(error_type, pairs, pair_quality_score_function=ref_fn, **ref_kw)
        ours = ours_fn(sims, q, pair_quality=pair_name, error_rule='lt', **our_kw)
        assert ours.threshold == ref['similarity_score_threshold']
        np.testing.assert_array_equal(ours.discard, ref['discard_fractions'])
        np.testing.assert_allclose(ours.fnmr, ref['error_fractions'], rtol=0, atol=1e-15)
        best = lambda L: R.compute_edc_area_under_theoretical_best(ref, L)
        for L in (0.05, 0.2, 0.3, 0.5, 1.0):
            p = pauc(ours, L)
            assert p.raw == pytest.approx(R.compute_edc_pauc(ref, L), abs=1e-12)
            assert p.minus_best == pytest.approx(R.compute_edc_pauc(ref, L) - best(L), abs=1e-12)
    # our default rule at t is the reference's at the next float above t (accepted: s > t  <=>  s >= nextafter(t))
    ref = R.compute_edc(error_type, pairs, similarity_score_threshold=float(np.nextafter(thr, np.inf)),
                        pair_quality_score_function=ref_fn)
    ours = ours_fn(sims, q, threshold=thr, pair_quality=pair_name)
    np.testing.assert_allclose(ours.fnmr, ref['error_fractions'], rtol=0, atol=1e-15)


def test_reference_rule_differs_on_ties():
    "The case that separates the rules: scores equal to the threshold (the cross-check would catch a swapped rule)"
    sims = np.array([0.5, 0.5, 0.9, 0.1]); q = np.array([[1, 1], [2, 2], [3, 3], [4, 4.]])
    ref = R.compute_edc('FNMR', R.sample_pairs(sims, q[:, 0], q[:, 1]), similarity_score_threshold=0.5)
    np.testing.assert_allclose(edc(sims, q, threshold=0.5, error_rule='lt').fnmr, ref['error_fractions'])
    assert not np.allclose(edc(sims, q, threshold=0.5).fnmr, ref['error_fractions'])
    assert edc(sims, q, threshold=0.5).fnmr0 == 0.75 and ref['error_fractions'][0] == 0.25


def test_pauc_table_options_match_reference():
    "pauc_table with the reference's settings (starting error 0.05, rule 'lt', min) equals the reference on the same pairs"
    r = np.random.default_rng(5); ids = np.repeat(np.arange(12), 4); P, M = exhaustive_pairs(ids)
    S = np.round(np.where(M, r.normal(0.5, 0.3, len(P)), r.normal(0, 0.2, len(P))), 2); qi = r.integers(0, 6, 48).astype(float)
    for et, sel in (('FNMR', M), ('FMR', ~M)):
        t = pauc_table({'a': qi}, P, S, M, limits=(0.2,), start_error=0.05, error_rule='lt', error_type=et)
        ref = R.compute_edc(et, R.sample_pairs(S[sel], qi[P[sel, 0]], qi[P[sel, 1]]), starting_error=0.05)
        assert t.pauc_raw.item() == pytest.approx(R.compute_edc_pauc(ref, 0.2), abs=1e-12)
