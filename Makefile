# Two entry points, as the README says:
#   make demo   makes .venv, installs the project and runs the main job on the embedded default
#   make test   makes .venv, installs the project with its test extra and runs the tests
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test install clean chromium

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian's chromium, for the web app's browser test (Playwright cannot download its own browser here);
# skipped when a chromium is on PATH; without root the browser test is skipped instead
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium not installed (needs root and apt-get): the browser test will be skipped"; fi

install: $(STAMP) chromium

demo: $(STAMP)
	$(PY) -m fpdm_video.demo --out outputs/demo

test: $(STAMP) chromium
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) outputs .pytest_cache
