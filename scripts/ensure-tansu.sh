# Sourced by scripts/test: makes sure the tansu Kafka-protocol broker is
# installed (built once from crates.io, then reused) and exports
# DUEFLOW_TEST_TANSU. Fails loudly when it cannot.

TANSU_VERSION=0.6.0
tansu_bin="$(command -v tansu || true)"
[ -n "$tansu_bin" ] || [ ! -x "$HOME/.cargo/bin/tansu" ] || tansu_bin="$HOME/.cargo/bin/tansu"
if [ -z "$tansu_bin" ] || ! "$tansu_bin" --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
    echo "installing the tansu $TANSU_VERSION broker (once; about 10 minutes on 2 cores)" >&2
    cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore,libsql >&2 ||
        { echo "FATAL: could not install the tansu broker the Kafka tests need" >&2; exit 1; }
    tansu_bin="$HOME/.cargo/bin/tansu"
fi
export DUEFLOW_TEST_TANSU="$tansu_bin"
