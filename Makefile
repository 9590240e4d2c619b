# The course's two commands (see README.md):
#   make book   build the site in _build/html, every notebook executed (full profile);
#               make book SOLUTIONS=hidden builds a semester's site: no solutions, Colab and
#               downloads give the student copies (written to student/ for you to publish)
#   make test   every test, in timed phases: unit, notebooks under nbval (ci profile), homework, site
#   make homework   student notebooks and grading tests in homework/ (for instructors)
#   make pdf    the book as one PDF in _build/pdf/book.pdf (needs Debian's chromium)
#   make compat the chapters on Colab's library versions, as Colab installs them (on demand)
# Both create the virtual environment .venv and install requirements.txt when needed.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Re-execute every notebook when the support package, the pins, the profile or the data choice change:
# jupyter-book's cache only notices changes to a notebook's own code cells.
CACHE_KEY_FILES := $(wildcard course_utils/*.py) requirements.txt

.PHONY: book pdf execution-cache test site-test install homework bench compat strip clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

execution-cache:
	@key="$$(cat $(CACHE_KEY_FILES) | sha256sum | cut -c1-16)-$${COURSE_PROFILE:-full}-$${COURSE_DATA:-auto}"; \
	if [ "$$(cat _build/.cache-key 2>/dev/null)" != "$$key" ]; then \
		echo "course_utils, pins, profile or data choice changed: clearing the notebook execution cache"; \
		rm -rf _build/.jupyter_cache; \
	fi; \
	mkdir -p _build && echo "$$key" > _build/.cache-key

SOLUTIONS ?= folded

book: $(INSTALLED) execution-cache
	COURSE_SOLUTIONS=$(SOLUTIONS) $(BIN)/jupyter-book build . --all --warningiserror --nitpick --keep-going
	@if [ "$(SOLUTIONS)" = hidden ]; then \
		rm -rf homework student && $(BIN)/python -m course_tools.homework book homework >/dev/null && \
		mkdir -p student && cp homework/*/student/*.ipynb student/ && \
		echo "Semester site: its Colab buttons open student/<chapter>.ipynb: commit and push student/"; \
	fi
	@echo "Site built: open _build/html/index.html"

# The book as one PDF (Sphinx's single page, printed by Debian's chromium); shares book's cache.
pdf: $(INSTALLED) execution-cache
	$(BIN)/jupyter-book build . --builder custom --custom-builder singlehtml --warningiserror --nitpick --keep-going
	$(BIN)/python -m course_tools.book_pdf _build/singlehtml _build/pdf/book.pdf

# Phases and their times: tests/run_all.py. Each chapter is executed twice: under nbval, and as
# a graded student copy; the site test renders nbval's runs. ARGS go to every phase's pytest.
test: $(INSTALLED)
	$(BIN)/python tests/run_all.py $(ARGS)

# The browser test (tests/test_site.py) on the site `make book` built; `make test` builds its own.
site-test: $(INSTALLED)
	COURSE_SITE_DIR=_build/html $(BIN)/python -m pytest -p no:cacheprovider tests/test_site.py

# Student notebooks and grading tests for every chapter with exercises, in homework/ (README).
homework: $(INSTALLED)
	rm -rf homework
	$(BIN)/python -m course_tools.homework book homework

# Every benchmark in turn (several minutes on a 2-core CPU); each prints its figures and targets.
bench: $(INSTALLED)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Every chapter (ci profile) on Google Colab's library versions, installed the way the chapters'
# Colab cell installs the course (course_tools/compat.py). On demand, not in CI: it downloads
# PyTorch's CUDA build (about 3 GB) into a fresh _build/compat-venv and deletes it afterwards.
compat: $(INSTALLED)
	$(BIN)/python -m course_tools.compat $(ARGS)

# Remove outputs from every notebook before committing (the book and tests re-create them).
define STRIP_OUTPUTS
import sys, nbformat
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
endef
export STRIP_OUTPUTS

strip: $(INSTALLED)
	$(BIN)/python -c "$$STRIP_OUTPUTS" book/*.ipynb

clean:
	rm -rf _build
