# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Prerequisites: Python 3.11, Java 17, Maven, make. Nothing here needs Docker.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
JARS := .jars
MVN := mvn -q -B -f deployment/pom.xml
SERVICES := kafka cassandra spark
PYTEST_ARGS ?=

.PHONY: help venv jars browser cluster down status schema demo test test-faults test-multinode unit integration lint clean

help:
	@echo "make demo   - venv, jars, local cluster, the whole pipeline on the shipped sample"
	@echo "make test   - venv, jars, unit tests, then integration tests on the real local cluster"
	@echo "make down   - stop the local cluster this checkout started"

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is required)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

jars: $(foreach s,$(SERVICES),$(JARS)/$(s)/.resolved)

# One Maven profile per service; the stamp makes a second run resolve nothing.
$(JARS)/%/.resolved: deployment/pom.xml
	@command -v mvn >/dev/null || { echo "error: mvn not found (Maven is required)" >&2; exit 1; }
	rm -rf $(JARS)/$*
	$(MVN) -P $* dependency:copy-dependencies
	@touch $@

# Debian's chromium for the browser tests (Playwright drives it; its own downloads are not used).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

cluster: venv jars
	$(BIN)/discorecs cluster up

down: venv
	$(BIN)/discorecs cluster down

status: venv
	$(BIN)/discorecs cluster status

schema: cluster
	$(BIN)/discorecs schema apply

SAMPLE := discorecs/app/data/releases-sample.xml.gz
CQLSH := HOME=$(CURDIR)/.cluster/cqlsh-home $(BIN)/cqlsh 127.0.0.1 9042

demo: schema
	$(BIN)/discorecs parse releases $(SAMPLE)
	$(BIN)/discorecs produce --users 1000 --rate 5000 --duration 20 --bad-ratio 0.01
	deployment/spark_submits.sh
	@mkdir -p .cluster/cqlsh-home
	$(CQLSH) -e "SELECT user_id, friend_id, friend_similarity, release_title FROM discorecs.users_scored LIMIT 10;"
	$(BIN)/discorecs stats
	$(BIN)/discorecs cluster status

test: venv jars browser lint
	$(BIN)/pytest tests/unit -q $(PYTEST_ARGS)
	$(BIN)/pytest tests/integration -q -m "integration and not fault and not multinode" $(PYTEST_ARGS)

test-faults: venv jars
	$(BIN)/pytest tests/integration -q -m "fault and not multinode" $(PYTEST_ARGS)

# A three-node cluster of its own (.cluster/multinode, private ports), node faults under load.
test-multinode: venv jars
	$(BIN)/pytest tests/integration -q -m multinode $(PYTEST_ARGS)

unit: venv
	$(BIN)/pytest tests/unit -q $(PYTEST_ARGS)

integration: venv jars browser
	$(BIN)/pytest tests/integration -q -m "integration and not fault and not multinode" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(JARS) .pytest_cache .ruff_cache
