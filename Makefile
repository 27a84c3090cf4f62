# ediffiqa_nb: `make demo` scores the sample faces with the default model, `make test` runs the tests.
# Both install into .venv first when needed (tools/install.sh).
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-nodata test-slow export clean-nbs readme docs-check docs-shot ci bench

$(STAMP): settings.ini setup.py tools/install.sh
	bash tools/install.sh
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ediffiqa demo

test: $(STAMP)
	$(BIN)/ediffiqa_test

# the suite as a user without the shared data runs it: the data tests skip and are counted as skipped (CI runs this too)
test-nodata: $(STAMP)
	d=$$(mktemp -d); EDIFFIQA_DATA=$$d EDIFFIQA_CACHE=$$d/cache EDIFFIQA_MODELS=$$d/models $(BIN)/ediffiqa_test; rc=$$?; rm -rf $$d; exit $$rc

test-slow: $(STAMP)
	$(BIN)/ediffiqa_test --flags "slow"

export: $(STAMP)
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean && $(BIN)/ediffiqa_readme

readme: $(STAMP)
	$(BIN)/ediffiqa_readme

docs-check: $(STAMP)
	$(BIN)/ediffiqa_docs --html

# a headless-browser screenshot of the offline widgets page (Debian: apt-get install chromium)
docs-shot: docs-check
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,7000 \
	  --screenshot=_proc/_html/20_widgets.png file://$(CURDIR)/_proc/_html/20_widgets.html

ci:
	bash .ci/run
