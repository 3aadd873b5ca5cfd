# Convergence — the two commands are `make run` and `make test`; the rest serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DJANGO_SETTINGS_MODULE := convergence.settings
# PostgreSQL run of the suite (CI always; locally when the server answers).
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/convergence
REDIS_TEST_URL ?= redis://127.0.0.1:6379/1

.PHONY: install migrate demo run test test-sqlite test-postgresql test-integration prod-like lint format bench screenshots lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_blueprint blueprints/demo.yaml
	$(BIN)/python manage.py index_guides

run: demo
	$(BIN)/python manage.py rundemo

lint: install
	$(BIN)/ruff check src demo tests bench deploy
	$(BIN)/ruff format --check src demo tests bench deploy
	$(BIN)/mypy src demo deploy
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check --fail-level WARNING

format: install
	$(BIN)/ruff check --fix src demo tests bench deploy
	$(BIN)/ruff format src demo tests bench deploy

test: lint test-sqlite test-postgresql test-integration

# Under CI the browser journeys (tests/e2e) run once, in the PostgreSQL + Redis pass (the
# production's databases): they check pages, not databases, and running them in both passes
# put CI past its 30 minutes. Elsewhere they run here, since the PostgreSQL pass may not.
test-sqlite: install
	DATABASE_URL= REDIS_URL= $(BIN)/pytest -n 2 --dist loadgroup --ignore=tests/integration $(if $(CI),--ignore=tests/e2e,)

test-postgresql: install
	@if [ -z "$$CI" ] && ! $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_TEST_URL:/convergence=/postgres)', connect_timeout=2).close()" 2>/dev/null; then \
		echo "PostgreSQL ne répond pas sur 127.0.0.1:5432 : passe PostgreSQL ignorée hors CI (CI l'exige)."; \
	else \
		DATABASE_URL=$(PG_TEST_URL) REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest -n 2 --dist loadgroup --ignore=tests/integration; \
	fi

# The production shape (nginx, gunicorn processes, PostgreSQL, Redis, RQ worker, scheduler)
# with its faults: throw-away PostgreSQL and Redis servers of its own, one test at a time.
test-integration: install
	DATABASE_URL= REDIS_URL= $(BIN)/pytest tests/integration -n 0

# nginx on 127.0.0.1:8080 → 2 gunicorn processes → PostgreSQL + Redis, worker, scheduler.
prod-like: install
	$(BIN)/python deploy/prodlike.py

bench: demo
	$(BIN)/python bench/run.py
	$(BIN)/python bench/sso.py

screenshots: demo
	$(BIN)/python scripts/screenshots.py

lock:
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra dev --extra demo --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) var/static .pytest_cache .mypy_cache .ruff_cache
