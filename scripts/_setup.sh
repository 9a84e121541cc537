# Shared set-up steps for scripts/run and scripts/test (sourced, not executed).

PYTHON=${PYTHON:-python3}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) for: $*" >&2; return 1; fi
}

setup_venv() {
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
  fi
  local stamp=.venv/.installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ ! -x .venv/bin/pytest ] ||
     ! .venv/bin/python -c "import bot, telegram, sqlalchemy, pytest" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[dev]"
    touch "$stamp"
  fi
  # The project's bytecode, written once here: where PYTHONDONTWRITEBYTECODE is set (it is on
  # the machines this was built on) every process compiled the project again at import, half a
  # second per start of a CLI command or of each `growthbot run` the end-to-end tests start.
  # Only what changed is compiled again; a module edited later is still read from its source.
  .venv/bin/python -m compileall -q -j 0 bot handlers campaigns storage tests bench >/dev/null
}

# PostgreSQL for the storage tests: use TEST_POSTGRES_URL if given, else a local server,
# installed from Debian packages when missing.
setup_postgres() {
  if [ -n "${TEST_POSTGRES_URL:-}" ]; then return 0; fi
  if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    echo "== installing PostgreSQL (Debian packages)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    local version
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    as_root pg_createcluster "$version" main >/dev/null
  fi
  pg_lsclusters -h | while read -r version cluster _port status _rest; do
    if [ "$status" != "online" ]; then as_root pg_ctlcluster "$version" "$cluster" start; fi
  done
  local port
  port=$(pg_lsclusters -h | awk 'NR==1 {print $3}')
  local i
  for i in $(seq 1 30); do
    if as_root su postgres -c "psql -p $port -qtAc 'select 1'" >/dev/null 2>&1; then break; fi
    sleep 1
  done
  as_root su postgres -c "psql -p $port -qtAc \"DO \\\$\\\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'growthbot') THEN
      CREATE ROLE growthbot LOGIN SUPERUSER PASSWORD 'growthbot';
    END IF; END \\\$\\\$;\"" >/dev/null
  if ! as_root su postgres -c "psql -p $port -qtAc \"SELECT 1 FROM pg_database WHERE datname='growthbot_test'\"" | grep -q 1; then
    as_root su postgres -c "createdb -p $port -O growthbot growthbot_test"
  fi
  export TEST_POSTGRES_URL="postgresql+asyncpg://growthbot:growthbot@127.0.0.1:$port/growthbot_test"
}

# A CJK font for the charts' Chinese labels (without one they render as empty boxes):
# installed from Debian packages when fontconfig knows none.
setup_fonts() {
  if command -v fc-list >/dev/null && fc-list :lang=zh family | grep -q .; then return 0; fi
  echo "== installing a CJK font for the charts (Debian packages)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null ||
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null ||
    echo "no CJK font installed: Chinese chart labels will show as boxes" >&2
}

# Debian's chromium for the dashboard's browser tests (tests/dashboard/test_dashboard_browser.py):
# Playwright drives it by path, since Playwright's own browser download is not reachable from
# the CI machines. A CJK font comes from setup_fonts.
setup_chromium() {
  if [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null; then return 0; fi
  echo "== installing chromium (Debian packages) for the dashboard's browser tests"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || {
    echo "chromium could not be installed (Debian package chromium)" >&2; return 1; }
}
