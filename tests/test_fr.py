"Face recognition: what the 09_fr notebook does not check itself (its own tests cover SFace vs onnxruntime, iresnets, Embedder, the cache)"
import numpy as np
from ediffiqa_nb.metrics import cosine, threshold_at_fmr, fnmr, tar_at_far, roc


def test_verification_utils():
    "The verification metrics `fr` used to define (now in `metrics`, re-imported by `fr` under the same names)"
    nm = np.arange(1000)/1000
    assert threshold_at_fmr(nm, 1e-3) == 0.998
    assert tar_at_far([0.1, 0.999, 0.9995, 0.5], nm, 1e-3) == 0.5
    assert fnmr([0.2, 0.9], 0.5) == 0.5
    np.testing.assert_allclose(cosine([[1, 0]], [[1, 1]]), [np.sqrt(.5)], rtol=1e-6)
    r = roc([0.9], [0.1])
    assert r.fmr.iloc[-1] == 1 and r.tar.iloc[-1] == 1

