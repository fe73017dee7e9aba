# facestream: `make run` to start everything, `make test` to run the tests.
# Any setting (see README) can be given on the command line, which make passes on as the
# environment: make run SOURCE=clip.mp4 WORKERS=2
.PHONY: run test install install-dev bench clean config

VENV ?= .venv
PY := $(VENV)/bin/python

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

bench: install-dev
	$(PY) bench/detect_upsample.py --quick
	$(PY) bench/gallery.py --quick
	$(PY) bench/pipeline.py --quick
	$(PY) bench/accuracy.py --quick
	$(PY) bench/video_tracks.py --quick

clean:
	rm -rf $(VENV) data/run .pytest_cache
