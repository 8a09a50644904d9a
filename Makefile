# The README's quick start: `make train` (main job) and `make test` (test suite).
# Both create .venv when missing and install the project with torch pinned to
# the CPU wheel through constraints.txt.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= dev,cachesim,sweep,tensorboard,wandb
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
TRAIN_ARGS ?=

.PHONY: setup train test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# The main job: train a cache agent on a built-in workload (resuming if interrupted),
# then judge it on an unseen trace of the same workload beside the classic policies.
TRAIN_CONFIG ?= configs/cache.yaml
RUN_DIR ?= results/quickstart
train: setup
	$(BIN)/rlcache train --config $(TRAIN_CONFIG) --output $(RUN_DIR) --resume auto $(TRAIN_ARGS)
	$(BIN)/rlcache evaluate --checkpoint $(RUN_DIR)/checkpoints/best.pt --seed 1

# Two workers (pytest-xdist); the Ray tests share one (tests/conftest.py). PYTEST_WORKERS=0
# runs in one process.
PYTEST_WORKERS ?= 2
test: setup
	$(BIN)/python -m pytest -q -m "not slow" -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench scripts examples

clean:
	rm -rf $(VENV) results .pytest_cache
