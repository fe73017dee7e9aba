# facestream: `make run` to start everything, `make test` to run the tests.
# Settings are environment variables (see README): make run SOURCE=clip.mp4 WORKERS=2
.PHONY: run test install install-dev bench clean config

VENV ?= .venv
PY := $(VENV)/bin/python
export SOURCE FACES_DIR DATA_DIR WORKERS EVERY_N SCALE MIN_DETECT_WIDTH UPSAMPLE TOLERANCE PORT BIND DLIB

run: install
	$(PY) -m services.launch

test: install-dev
	$(PY) -m pytest

install:
	@scripts/install.sh

install-dev:
	@scripts/install.sh --dev

config: install
	$(PY) -m services.launch --print-config

clean:
	rm -rf $(VENV) data/run .pytest_cache
