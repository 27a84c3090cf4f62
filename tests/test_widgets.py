"Widgets driven without a browser: what a saved notebook shows without a kernel (the notebook tests the widgets themselves)"
import base64, json
import numpy as np
import pytest

import matplotlib; matplotlib.use('Agg')
from ediffiqa_nb.widgets import DatasetBrowser, widget_state, save_widget_state

@pytest.fixture(scope='module')
def faces():
    g = np.random.default_rng(1)
    return [np.clip(g.normal(128, 50, (112, 112, 3)), 0, 255).astype(np.uint8) for _ in range(2)]

def test_saved_state_shows_last_view(faces, tmp_path):
    "An HTML renderer of the saved notebook shows the view after the last slider move: its image, text and slider values"
    br = DatasetBrowser(faces*3, [0.5, 0.1, 0.9, 0.3, 0.7, 0.2], per_page=4, cols=2)
    br.ui; br.sliders['page'].value = 1; br.sliders['ascending'].value = True
    assert br.last_numbers['quality'] == [0.7, 0.9], br.last_numbers
    nb = tmp_path/'x.ipynb'; nb.write_text(json.dumps({'cells': [], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    save_widget_state(nb, widget_state(br))
    st = json.loads(nb.read_text())['metadata']['widgets']['application/vnd.jupyter.widget-state+json']['state']
    img = [m for m in st.values() if m['model_name'] == 'ImageModel']
    assert len(img) == 1 and base64.b64decode(img[0]['buffers'][0]['data']) == br.last_bytes, [m['model_name'] for m in st.values()]
    html = [m['state']['value'] for m in st.values() if m['model_name'] == 'HTMLModel']
    assert html == [br.text.value] == ['2 faces, quality 0.700 .. 0.900'], html
    page = [m['state'] for m in st.values() if m['model_name'] == 'IntSliderModel']
    assert page[0]['value'] == 1 and page[0]['max'] == 1, page
