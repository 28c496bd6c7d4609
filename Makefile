# ocr-fix — set-up, demo, tests, benchmarks. `make demo` and `make test` work on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# synth types with Courier Prime by default; the other monospaced fonts give the benchmark's
# injected sets (bench/sets.py) pages in several typefaces.
APT_PKGS := tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd fonts-courier-prime fonts-freefont-ttf fonts-liberation fonts-dejavu-core fonts-texgyre

.PHONY: setup system-deps demo test test-fast lint bench calibrate clean browser-deps

setup: system-deps $(STAMP)

system-deps:
	@missing=""; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr tesseract-ocr-eng"; \
	tesseract --list-langs 2>/dev/null | grep -qx osd || missing="$$missing tesseract-ocr-osd"; \
	[ -e /usr/share/fonts/opentype/courier-prime/CourierPrime-Regular.otf ] || [ -n "$$(fc-list 2>/dev/null | grep -i 'Courier Prime')" ] || missing="$$missing fonts-courier-prime"; \
	for pair in "FreeMono:fonts-freefont-ttf" "Liberation Mono:fonts-liberation" \
	            "DejaVu Sans Mono:fonts-dejavu-core" "TeX Gyre Cursor:fonts-texgyre"; do \
	  [ -n "$$(fc-list ":family=$${pair%%:*}" file 2>/dev/null)" ] || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "ocr-fix needs:$$missing"; \
	    echo "run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,dask]'
	touch $(STAMP)

# Chromium only serves the HTML report's browser tests: when it cannot be installed they
# skip, and nothing else depends on it, so a failed install is reported, not fatal.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || echo "could not install chromium; the browser tests will skip"; \
	  else echo "browser tests need: sudo apt-get install -y chromium (they skip without it)"; fi; }

demo: setup
	$(BIN)/ocr-fix check scans/psis-400-23/transcript.md scans/psis-400-23 --lexicon lexicons/psis-400-23.txt --fail-on never

# The gate: lint and types first (seconds), then the whole suite.
test: setup browser-deps lint
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-fast: setup
	$(BIN)/python -m pytest -q -m "not tesseract and not browser and not slow"

bench: setup
	$(BIN)/python bench/run.py

# Fit the evidence model (ocr_fix/data/evidence_model.json) on injected-error sets built
# from ../shared/realdata, the bundled pages and synth pages; prints leave-one-group-out
# figures. Real OCR, second readings and verifier scores are cached.
calibrate: setup
	$(BIN)/python bench/calibrate.py --seeds 1,2,3,4,5,6

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
