"""A literal, slow transcription of the reference EDC code, kept only to cross-check `ediffiqa_nb.metrics`.

Source: Schlett et al., https://github.com/dasec/quality-assessment-evaluation `edc.py` (commit 2a66097; their related
`fiqat` toolkit was not available to check): `compute_edc`, `compute_edc_pauc` and `compute_edc_area_under_theoretical_best`.
Transcribed as plain python loops with the same conventions, not imported, so that the check stays independent of
our vectorised code:
- input: a list of sample pairs `{'samples': ({'quality_score': q1}, {'quality_score': q2}), 'similarity_score': s}`;
- pair quality = `pair_quality_score_function(q1, q2)` (default the builtin `min`), pairs sorted ascending by it;
- exactly one of `similarity_score_threshold`, `similarity_score_quantile` (np.quantile of the pairs' similarity scores)
  or `starting_error` (quantile `e` for FNMR, `1 - e` for FMR);
- error: FNMR `similarity < threshold`, FMR `similarity >= threshold`;
- a point at the start of every run of equal pair quality (discard count = index of the run's first pair), the error
  fraction = errors among the pairs from there on / the pairs from there on, plus `(1, 0)` when 100 % is not a point;
- pAUC: left (stepwise) area up to the limit; the theoretical best: e0^2/2, minus (e0 - limit)^2/2 when limit < e0.
"""
import numpy as np

FNMR, FMR = 'FNMR', 'FMR'


def compute_edc(error_type, sample_pairs, similarity_score_threshold=None, similarity_score_quantile=None,
                starting_error=None, pair_quality_score_function=min):
    "Reference EDC: dict with error_fractions, discard_fractions, error_counts, discard_counts, comparison_count"
    given = [v is not None for v in (similarity_score_threshold, similarity_score_quantile, starting_error)]
    assert sum(given) == 1, 'exactly one of similarity_score_threshold, similarity_score_quantile, starting_error'
    sims = [float(p['similarity_score']) for p in sample_pairs]
    pq = [float(pair_quality_score_function(p['samples'][0]['quality_score'], p['samples'][1]['quality_score']))
          for p in sample_pairs]
    order = sorted(range(len(pq)), key=lambda i: pq[i])
    pq = [pq[i] for i in order]; sims = [sims[i] for i in order]
    if starting_error is not None:
        similarity_score_quantile = starting_error if error_type == FNMR else 1 - starting_error
    if similarity_score_threshold is None:
        similarity_score_threshold = float(np.quantile(np.array(sims, dtype=np.float64), similarity_score_quantile))
    thr = similarity_score_threshold
    n = len(sims)
    err = [(s < thr) if error_type == FNMR else (s >= thr) for s in sims]
    # errors among the pairs from index k on (k = number discarded)
    error_counts = [0]*n
    acc = 0
    for k in range(n - 1, -1, -1):
        acc += int(err[k]); error_counts[k] = acc
    discard_counts = [0] + [k + 1 for k in range(n - 1) if pq[k] != pq[k + 1]]
    error_fractions = [error_counts[d] / (n - d) for d in discard_counts]
    discard_fractions = [d / n for d in discard_counts]
    if discard_fractions[-1] != 1:
        discard_fractions.append(1); error_fractions.append(0)
    return dict(error_type=error_type, error_fractions=np.array(error_fractions, dtype=np.float64),
                discard_fractions=np.array(discard_fractions, dtype=np.float64), error_counts=np.array(error_counts),
                discard_counts=np.array(discard_counts), comparison_count=n, similarity_score_threshold=thr)


def compute_edc_pauc(edc_output, discard_fraction_limit):
    "Reference pAUC: stepwise area of the EDC up to the limit (not normalised, best not subtracted)"
    ef, df = edc_output['error_fractions'], edc_output['discard_fractions']
    assert len(ef) == len(df) and 0 <= discard_fraction_limit <= 1
    if discard_fraction_limit == 0: return 0
    area = 0
    for i in range(len(df)):
        if i == len(df) - 1 or df[i + 1] >= discard_fraction_limit:
            area += ef[i] * (discard_fraction_limit - df[i]); break
        area += ef[i] * (df[i + 1] - df[i])
    return area


def compute_edc_area_under_theoretical_best(edc_output, discard_fraction_limit):
    "Reference: area under max(0, e0 - x) up to the limit"
    e0 = edc_output['error_fractions'][0]
    area = e0**2 / 2
    if discard_fraction_limit < e0: area -= (e0 - discard_fraction_limit)**2 / 2
    return area


def sample_pairs(sims, q1, q2):
    "Build the reference's input structure from arrays"
    return [{'samples': ({'quality_score': float(a)}, {'quality_score': float(b)}), 'similarity_score': float(s)}
            for s, a, b in zip(sims, q1, q2)]
