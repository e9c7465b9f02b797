# Sourced by scripts/test: makes sure the web app's browser tests have a
# browser and the tools that drive it: Debian's chromium (installed with
# apt-get when missing) and the npm packages (playwright-core, axe-core,
# Lighthouse) pinned by
# crates/dueflow/tests/web/package-lock.json (installed once with `npm ci`
# into a directory named after that lock file's hash; later runs reuse it).
# Exports DUEFLOW_TEST_CHROMIUM and DUEFLOW_TEST_NODE_MODULES. Fails loudly
# when it cannot.

browser_tests_dir="$PWD/crates/dueflow/tests/web"

if ! /usr/bin/chromium --version >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "FATAL: chromium is missing and there is no apt-get to install it with; the browser tests need /usr/bin/chromium" >&2; exit 1; }
    if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
    echo "installing Debian's chromium (once) for the browser tests" >&2
    { DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq chromium >&2 ||
        { "${apt_get[@]}" update -qq >&2 && DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq chromium >&2; }; } &&
        /usr/bin/chromium --version >/dev/null 2>&1 ||
        { echo "FATAL: could not install Debian's chromium, which the browser tests need" >&2; exit 1; }
fi
export DUEFLOW_TEST_CHROMIUM=/usr/bin/chromium

command -v npm >/dev/null 2>&1 || { echo "FATAL: npm is needed to install the browser tests' tools (playwright-core, axe-core, Lighthouse)" >&2; exit 1; }
browser_lock_hash="$(sha256sum "$browser_tests_dir/package-lock.json" | cut -c1-16)"
browser_tools="${XDG_CACHE_HOME:-$HOME/.cache}/dueflow/browser-tools-$browser_lock_hash"
if [ ! -f "$browser_tools/.complete" ]; then
    echo "installing the browser tests' npm packages (once) in $browser_tools" >&2
    rm -rf "$browser_tools" && mkdir -p "$browser_tools" &&
        cp "$browser_tests_dir/package.json" "$browser_tests_dir/package-lock.json" "$browser_tools/" &&
        (cd "$browser_tools" && npm ci --no-audit --no-fund --loglevel=error >&2) &&
        touch "$browser_tools/.complete" ||
        { echo "FATAL: could not install the browser tests' npm packages (see above)" >&2; exit 1; }
fi
export DUEFLOW_TEST_NODE_MODULES="$browser_tools/node_modules"
