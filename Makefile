# mmlu-ml: `make demo` runs the pipeline on a small slice; `make test` runs every test.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
SHARED  ?= ../shared
export MMLU_ML_SOURCE ?= $(SHARED)/mmlu

# The demo slice: 3 subjects x first 5 test questions, English + 2 languages of the GPT-4 chart,
# translated by the embedded local translator and scored by the embedded default model (GPT-4 protocol).
DEMO_LANGS    ?= en,de,fr
DEMO_SUBJECTS ?= astronomy,high_school_geography,marketing
DEMO_LIMIT    ?= 5

.PHONY: install demo test published clean

$(BIN)/mmlu-ml: setup.cfg pyproject.toml
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is needed (set PY=...)"; exit 2; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned to the CPU build this machine image ships; an open range would pull a CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[all,hf,test]'
	@touch $@

install: $(BIN)/mmlu-ml

demo: install
	$(BIN)/mmlu-ml run --languages $(DEMO_LANGS) --subjects $(DEMO_SUBJECTS) --limit $(DEMO_LIMIT)

test: install
	$(BIN)/lint-imports --no-logo  # ARCHITECTURE.md's layers, contracts in setup.cfg
	$(BIN)/mypy mmlu_ml  # type check, [mypy] in setup.cfg
	$(BIN)/python -m pytest -q -ra --durations=15 tests

published: install
	bash bench/published.sh

clean:
	rm -rf $(VENV) cache results/translations results/predictions results/report *.egg-info
