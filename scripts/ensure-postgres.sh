# Sourced by scripts/test: makes sure a PostgreSQL server is reachable for the
# tests, starting or installing Debian's cluster when needed, and exports
# DUEFLOW_TEST_PG (an admin URL). Fails loudly when it cannot.

pg_url_default="postgres://postgres@127.0.0.1:5432/postgres"
export DUEFLOW_TEST_PG="${DUEFLOW_TEST_PG:-$pg_url_default}"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

pg_answers() {
    command -v psql >/dev/null 2>&1 && psql "$DUEFLOW_TEST_PG" -Atqc 'select 1' >/dev/null 2>&1
}

start_cluster() {
    local version
    version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)"
    [ -n "$version" ] || return 1
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && return 0
        sleep 1
    done
    return 1
}

if ! pg_answers; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
        echo "PostgreSQL is not installed; installing Debian's postgresql package" >&2
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
    fi
    start_cluster || { echo "FATAL: could not start a PostgreSQL cluster" >&2; exit 1; }
    if ! pg_answers && [ "$DUEFLOW_TEST_PG" = "$pg_url_default" ]; then
        # A fresh Debian cluster asks for a password over TCP: give the
        # postgres role a local test password and use it.
        as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
        export DUEFLOW_TEST_PG="postgres://postgres:postgres@127.0.0.1:5432/postgres"
    fi
fi
pg_answers || { echo "FATAL: PostgreSQL does not answer at ${DUEFLOW_TEST_PG%%@*}@… ; the tests need it" >&2; exit 1; }
