# Sourced by scripts/test: makes sure the aiosmtpd SMTP server (PyPI) is
# importable, for the tests that mail reminders to a real SMTP server on
# loopback, and exports DUEFLOW_TEST_PYTHON. Fails loudly when it cannot.

python_bin="$(command -v python3 || true)"
[ -n "$python_bin" ] || { echo "FATAL: python3 is needed to run the aiosmtpd SMTP server for the tests" >&2; exit 1; }
if ! "$python_bin" -c 'import aiosmtpd' 2>/dev/null; then
    echo "installing the aiosmtpd SMTP server (once)" >&2
    "$python_bin" -m pip install --quiet aiosmtpd >&2 ||
        { echo "FATAL: could not install aiosmtpd, the SMTP server the mail tests need" >&2; exit 1; }
fi
export DUEFLOW_TEST_PYTHON="$python_bin"
