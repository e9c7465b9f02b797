# Sourced by scripts/test: makes sure the OpenAPI tools the contract test runs
# are installed, at pinned versions, in a virtual environment of their own
# (installed once; later runs reuse it): schemathesis (the fuzzer),
# openapi-spec-validator (checks the document against the OpenAPI
# specification) and openapi-python-client (generates a client from the
# document). Exports DUEFLOW_TEST_SCHEMATHESIS (the `schemathesis` command;
# the validator is `python -m openapi_spec_validator` beside it) and
# DUEFLOW_TEST_OPENAPI_CLIENT (the `openapi-python-client` command).
# Fails loudly when it cannot.

schemathesis_version="4.32.5"
openapi_client_version="0.29.1"
spec_validator_version="0.9.0"
openapi_venv="${XDG_CACHE_HOME:-$HOME/.cache}/dueflow/openapi-tools-st${schemathesis_version}-osv${spec_validator_version}-opc${openapi_client_version}"

openapi_tools_present() {
    "$openapi_venv/bin/schemathesis" --version 2>/dev/null | grep -q "$schemathesis_version" &&
        "$openapi_venv/bin/openapi-python-client" --version 2>/dev/null | grep -q "$openapi_client_version" &&
        "$openapi_venv/bin/python" -c "import importlib.metadata as m; assert m.version('openapi-spec-validator') == '$spec_validator_version'" 2>/dev/null
}

if ! openapi_tools_present; then
    python_bin="$(command -v python3 || true)"
    [ -n "$python_bin" ] || { echo "FATAL: python3 is needed to run schemathesis, the OpenAPI fuzzer of the tests" >&2; exit 1; }
    echo "installing schemathesis $schemathesis_version, openapi-spec-validator $spec_validator_version and openapi-python-client $openapi_client_version (once) in $openapi_venv" >&2
    rm -rf "$openapi_venv"
    # Debian's own python3 makes virtual environments only with python3-venv.
    if ! "$python_bin" -c 'import ensurepip' 2>/dev/null && command -v apt-get >/dev/null 2>&1; then
        echo "installing Debian's python3-venv (once)" >&2
        if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
        "${apt_get[@]}" update -qq >&2 && "${apt_get[@]}" install -y -qq python3-venv >&2 || true
    fi
    { "$python_bin" -m venv "$openapi_venv" &&
        "$openapi_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "schemathesis==$schemathesis_version" "openapi-spec-validator==$spec_validator_version" \
            "openapi-python-client==$openapi_client_version" >&2 &&
        openapi_tools_present; } ||
        { echo "FATAL: could not install schemathesis $schemathesis_version, openapi-spec-validator $spec_validator_version and openapi-python-client $openapi_client_version, which the OpenAPI contract test needs" >&2; exit 1; }
fi
export DUEFLOW_TEST_SCHEMATHESIS="$openapi_venv/bin/schemathesis"
export DUEFLOW_TEST_OPENAPI_CLIENT="$openapi_venv/bin/openapi-python-client"
