"Widgets driven without a browser: set slider values, check the produced image and numbers (stand-in models, synthetic data)"
import numpy as np
import pytest

import matplotlib; matplotlib.use('Agg')
from ediffiqa_nb.widgets import (ReconstructionInspector, EDCExplorer, DatasetBrowser, tiny_embedder, synthetic_verification,
                                 widget_state, save_widget_state, fig2img, TERMS)

@pytest.fixture(scope='module')
def faces():
    g = np.random.default_rng(1)
    return [np.clip(g.normal(128, 50, (112, 112, 3)), 0, 255).astype(np.uint8) for _ in range(2)]

def test_inspector_slider_updates_numbers_and_image(faces):
    insp = ReconstructionInspector(faces, fr=tiny_embedder(), repeats=2, t_max=8)
    insp.ui
    first = insp.last_numbers
    assert set(first) == set(TERMS) | {'score'} and np.isclose(first['score'], np.mean([first[k] for k in TERMS]))
    insp.sliders['i'].value = 1; insp.sliders['t'].value = 3; insp.sliders['r'].value = 1
    assert insp.last_numbers == insp.compute(1, 3, 1)[1] and insp.last_numbers != first
    assert insp.image.value == insp.last_bytes and insp.last_bytes[:2] == b'\xff\xd8'
    img = fig2img(insp.render(1, 3, 1)[0]); assert img.ndim == 3 and img.shape[2] == 3 and img.std() > 0

def test_inspector_images(faces):
    ims, nums = ReconstructionInspector(faces, fr=tiny_embedder()).compute(0, 2, 0)
    assert (ims['original'] == faces[0]).all() and (ims['flip'] == faces[0][:, ::-1]).all()
    assert all(ims[k].shape == (112, 112, 3) and ims[k].dtype == np.uint8 for k in ims)

def test_inspector_rejects_unaligned():
    with pytest.raises(ValueError, match='not an aligned 112x112'): ReconstructionInspector([np.zeros((100, 90, 3), np.uint8)], fr=tiny_embedder())

def test_edc_explorer():
    ex = EDCExplorer(*synthetic_verification(n_id=15, per=5))
    _, p = ex.render(limit=0.3)
    assert p['oracle'] < p['random']
    ex.ui; ex.sliders['methods'].value = ('random',); ex.sliders['limit'].value = 0.2
    assert list(ex.last_numbers) == ['random'] and list(ex.last_table.limit) == [0.2]
    ex.sliders['methods'].value = (); assert 'choose' in ex.text.value

def test_browser_and_state(faces, tmp_path):
    import json
    br = DatasetBrowser(faces*3, [0.5, 0.1, 0.9, 0.3, 0.7, 0.2], per_page=4, cols=2)
    br.ui
    assert br.last_numbers['quality'] == [0.9, 0.7, 0.5, 0.3]
    br.sliders['page'].value = 1; assert br.last_numbers['quality'] == [0.2, 0.1]
    br.sliders['ascending'].value = True; assert br.last_numbers['quality'] == [0.7, 0.9]
    nb = tmp_path/'x.ipynb'; nb.write_text(json.dumps({'cells': [], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    save_widget_state(nb, widget_state(br))
    st = json.loads(nb.read_text())['metadata']['widgets']['application/vnd.jupyter.widget-state+json']
    assert any(m['model_name'] == 'ImageModel' for m in st['state'].values())
