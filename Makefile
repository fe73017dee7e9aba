# facestream: `make run` to start everything, `make test` to run the tests.
# Any setting (see README) can be given on the command line, which make passes on as the
# environment: make run SOURCE=clip.mp4 WORKERS=2
.PHONY: run test lint format install install-dev bench clean config docker-check

VENV ?= .venv
PY := $(VENV)/bin/python

run: install
	$(PY) -m services.launch

test: install-dev lint
	$(PY) -m pytest

# Style and types: ruff (lint + format check) on everything, mypy on shared/ and services/. Part of `make test`.
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Rewrites the files ruff's formatter would change.
format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

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
	$(PY) bench/negatives.py --quick
	$(PY) bench/video_tracks.py --quick
	$(PY) bench/visitors.py --quick
	$(PY) bench/small_faces.py --quick
	$(PY) bench/small_faces_pipeline.py --quick

# The Dockerfile and docker-compose.yml under a real Docker daemon (not part of `make test`: the image
# compiles dlib). Needs docker and a running dockerd; as root it makes the base image from Debian's packages.
docker-check:
	python3 scripts/docker_check.py

clean:
	rm -rf $(VENV) data/run .pytest_cache
