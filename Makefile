# ediffiqa_nb: `make demo` scores the sample faces with the default model, `make test` runs the tests.
# Both install into .venv first when needed (tools/install.sh).
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-slow export clean-nbs readme docs-check ci bench

$(STAMP): settings.ini setup.py tools/install.sh
	bash tools/install.sh
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ediffiqa demo

test: $(STAMP)
	$(BIN)/ediffiqa_test

test-slow: $(STAMP)
	$(BIN)/ediffiqa_test --flags "slow"

export: $(STAMP)
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean && $(BIN)/ediffiqa_readme

readme: $(STAMP)
	$(BIN)/ediffiqa_readme

docs-check: $(STAMP)
	$(BIN)/ediffiqa_docs --html

ci:
	bash .ci/run
