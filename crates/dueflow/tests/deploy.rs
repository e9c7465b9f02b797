//! The deployment files, checked as far as a machine without a cluster can:
//! the Helm chart lints strictly and renders, for each values file and both
//! buses, manifests that Kubernetes' own schemas accept (1.25, 1.30 and
//! 1.37, unknown fields refused); what renders keeps the security settings
//! operators rely on and no secret in a ConfigMap; the values schema
//! refuses bad values naming them; the Dockerfile passes hadolint. Each
//! checker is also shown a broken input, so a checker that passes anything
//! fails here. Custom resources (Strimzi, CloudNativePG, Dapr, the
//! Prometheus Operator) are checked against their projects' schemas,
//! vendored in `deploy/schemas`. The tools come from
//! `scripts/ensure-deploy-tools.sh` and `scripts/ensure-image-tools.sh`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use dueflow_domain::event::{REMINDERS, TASK_EVENTS, TASK_UPDATES};
use serde_json::{Value, json};

fn tool(var: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "{var} is not set: run the tests through scripts/test, which installs helm, \
             kubernetes-validate, hadolint, promtool, actionlint, zizmor and buildah \
             (scripts/ensure-deploy-tools.sh, scripts/ensure-image-tools.sh)"
        )
    })
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> PathBuf {
    repo().join("deploy/helm/dueflow")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn helm(args: &[&str], values: &[&str]) -> Output {
    run(Command::new(tool("DUEFLOW_HELM"))
        .args(args)
        .arg(chart())
        .args(values))
}

/// The rendered manifests, as JSON documents.
fn render(values: &[&str]) -> (String, Vec<Value>) {
    let out = helm(&["template", "dueflow"], values);
    assert!(
        out.status.success(),
        "helm template {values:?}: {}",
        text(&out)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    let mut py = Command::new(tool("DUEFLOW_TEST_DEPLOY_PYTHON"));
    py.args([
        "-c",
        "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))",
    ]);
    let out = run_with_stdin(&mut py, &yaml);
    assert!(out.status.success(), "{}", text(&out));
    (yaml, serde_json::from_slice(&out.stdout).unwrap())
}

fn run_with_stdin(cmd: &mut Command, input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Whether Kubernetes `version`'s schemas accept `yaml`, strictly.
fn valid(yaml: &str, version: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("manifests.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = run(Command::new(tool("DUEFLOW_TEST_KUBE_VALIDATE"))
        .args(["--strict", "--quiet", "-k", version])
        .arg(&file));
    if out.status.success() {
        Ok(())
    } else {
        Err(text(&out))
    }
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

const KUBERNETES: [&str; 3] = ["1.25.0", "1.30.0", "1.37.0"];

#[test]
fn the_chart_renders_valid_locked_down_manifests() {
    let minikube = chart().join("values-minikube.yaml");
    let cloud = chart().join("values-cloud.yaml");
    let (minikube, cloud) = (minikube.to_str().unwrap(), cloud.to_str().unwrap());
    let cases: [(&str, Vec<&str>, usize); 5] = [
        ("defaults", vec![], 5),
        ("minikube", vec!["-f", minikube], 4),
        ("cloud", vec!["-f", cloud], 5),
        ("dapr", vec!["--set", "bus.type=dapr"], 5),
        (
            "minikube with dapr",
            vec!["-f", minikube, "--set", "bus.type=dapr"],
            4,
        ),
    ];
    for (name, values, deployments) in cases {
        let lint = helm(&["lint", "--strict"], &values);
        assert!(lint.status.success(), "{name}: {}", text(&lint));
        let (yaml, docs) = render(&values);
        for k in KUBERNETES {
            valid(&yaml, k).unwrap_or_else(|e| panic!("{name} on Kubernetes {k}: {e}"));
        }
        let deps = of_kind(&docs, "Deployment");
        assert_eq!(deps.len(), deployments, "{name}");
        for d in deps {
            let pod = &d["spec"]["template"]["spec"];
            let c = &pod["containers"][0];
            let what = format!("{name}: {}", d["metadata"]["name"]);
            assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{what}");
            assert_eq!(
                pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
                "{what}"
            );
            assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
            assert_eq!(pod["enableServiceLinks"], false, "{what}");
            let sc = &c["securityContext"];
            assert_eq!(sc["readOnlyRootFilesystem"], true, "{what}");
            assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}");
            assert_eq!(
                sc["capabilities"]["drop"],
                serde_json::json!(["ALL"]),
                "{what}"
            );
            assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz", "{what}");
            assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz", "{what}");
            assert!(c["resources"]["requests"]["memory"].is_string(), "{what}");
            let args: Vec<&str> = c["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert_eq!(args[..2], ["serve", "--roles"], "{what}");
            // It listens on the port the probes, the Services and Dapr use.
            let listen = args[args.iter().position(|a| *a == "--listen").unwrap() + 1];
            let port = c["ports"][0]["containerPort"].as_u64().unwrap();
            assert_eq!(listen, format!("0.0.0.0:{port}"), "{what}");
            let image = c["image"].as_str().unwrap();
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
            assert!(!tag.is_empty() && tag != "latest", "{what}: {image}");
            let dapr = name.contains("dapr");
            let annotations = &d["spec"]["template"]["metadata"]["annotations"];
            assert_eq!(annotations["dapr.io/enabled"] == "true", dapr, "{what}");
        }
        // Secrets are files from Secrets, never values in the ConfigMap.
        for cm in of_kind(&docs, "ConfigMap") {
            for key in cm["data"].as_object().unwrap().keys() {
                let secret = ["PASSWORD", "TOKEN", "API_KEY", "DATABASE_URL"]
                    .iter()
                    .any(|s| key.contains(s));
                assert!(
                    !secret || key.ends_with("_FILE"),
                    "{name}: {key} in a ConfigMap"
                );
            }
        }
    }

    // What differs between the values files.
    let (_, minikube_docs) = render(&["-f", minikube]);
    let api = of_kind(&minikube_docs, "Deployment")
        .into_iter()
        .find(|d| d["metadata"]["name"] == "dueflow-api")
        .unwrap();
    assert_eq!(
        api["spec"]["template"]["spec"]["containers"][0]["args"][2],
        "api,audit"
    );
    assert!(of_kind(&minikube_docs, "NetworkPolicy").is_empty());
    let (_, cloud_docs) = render(&["-f", cloud]);
    let hpa = of_kind(&cloud_docs, "HorizontalPodAutoscaler");
    assert_eq!(hpa.len(), 1);
    assert_eq!(hpa[0]["spec"]["scaleTargetRef"]["name"], "dueflow-api");
    let api = of_kind(&cloud_docs, "Deployment")
        .into_iter()
        .find(|d| d["metadata"]["name"] == "dueflow-api")
        .unwrap();
    assert!(
        api["spec"]["replicas"].is_null(),
        "the autoscaler owns the api's replicas"
    );
    assert_eq!(of_kind(&cloud_docs, "PodDisruptionBudget").len(), 5);
    assert_eq!(
        of_kind(&cloud_docs, "Ingress")[0]["spec"]["tls"][0]["secretName"],
        "dueflow-tls"
    );
    assert_eq!(of_kind(&cloud_docs, "NetworkPolicy").len(), 2);

    // The checker refuses what Kubernetes would.
    let broken = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicaz: 1\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: x, image: x}]\n";
    assert!(
        valid(broken, "1.30.0").is_err(),
        "kubernetes-validate passes anything"
    );
}

#[test]
fn bad_values_are_refused_naming_them() {
    for (set, named) in [
        ("roles.api.replicas=two", "roles.api.replicas"),
        ("bus.type=rabbitmq", "bus.type"),
        ("bus.kafka.brokers=", "bus.kafka.brokers"),
        ("podSecurityContext.runAsNonRoot=false", "runAsNonRoot"),
        ("smtp.host=mail.example.com", "from"),
        ("assistant.url=https://api.openai.com/v1", "model"),
        ("database.existingSecret=", "database.existingSecret"),
        ("roles.audit.mergeInto=everything", "roles.audit.mergeInto"),
        ("colour=red", "colour"),
    ] {
        let out = helm(&["lint", "--strict"], &["--set", set]);
        let said = text(&out);
        assert!(!out.status.success(), "{set} was accepted");
        assert!(said.contains(named), "{set}: {said}");
    }
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let dockerfile = repo().join("deploy/container/Dockerfile");
    let out = run(Command::new(tool("DUEFLOW_TEST_HADOLINT")).arg(&dockerfile));
    assert!(out.status.success(), "{}", text(&out));
    let dir = tempfile::tempdir().unwrap();
    let sloppy = dir.path().join("Dockerfile");
    std::fs::write(&sloppy, "FROM debian:latest\nRUN apt-get install curl\n").unwrap();
    let out = run(Command::new(tool("DUEFLOW_TEST_HADOLINT")).arg(&sloppy));
    assert!(!out.status.success(), "hadolint passes anything");
}

fn promtool(args: &[&str], file: &Path) -> Output {
    run(Command::new(tool("DUEFLOW_TEST_PROMTOOL"))
        .args(args)
        .arg(file))
}

#[test]
fn alerts_and_the_dashboard_hold_up_in_promtool_and_render_for_the_operator() {
    let alerts = chart().join("files/alerts.yaml");
    let out = promtool(&["check", "rules"], &alerts);
    assert!(out.status.success(), "{}", text(&out));
    let out = promtool(
        &["test", "rules"],
        &repo().join("deploy/prometheus/alerts.test.yaml"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(x[5m]\n",
    )
    .unwrap();
    assert!(
        !promtool(&["check", "rules"], &broken).status.success(),
        "promtool passes anything"
    );

    // Every query of the dashboard parses: each one as a recording rule.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(chart().join("files/dashboard.json")).unwrap(),
    )
    .unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let mut n = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap().replace("$job", ".*");
            rules.push_str(&format!(
                "      - record: dashboard:query_{n}\n        expr: {}\n",
                serde_json::to_string(&expr).unwrap()
            ));
            n += 1;
        }
    }
    assert!(n >= 10, "{n} queries");
    let queries = dir.path().join("dashboard.yaml");
    std::fs::write(&queries, rules).unwrap();
    let out = promtool(&["check", "rules"], &queries);
    assert!(out.status.success(), "{}", text(&out));

    // Where the Prometheus Operator is, the chart brings its resources.
    let operator = [
        "--api-versions",
        "monitoring.coreos.com/v1",
        "--set",
        "monitoring.grafanaDashboard=true",
    ];
    let (yaml, docs) = render(&operator);
    valid(&yaml, "1.30.0").unwrap();
    let rule = of_kind(&docs, "PrometheusRule");
    let file: Value = {
        let mut py = Command::new(tool("DUEFLOW_TEST_DEPLOY_PYTHON"));
        py.args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ]);
        let out = run_with_stdin(&mut py, &std::fs::read_to_string(&alerts).unwrap());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(
        rule[0]["spec"]["groups"], file["groups"],
        "the PrometheusRule holds the tested alerts"
    );
    let monitor = of_kind(&docs, "ServiceMonitor");
    let wanted = &monitor[0]["spec"]["selector"]["matchLabels"];
    let service = of_kind(&docs, "Service")
        .into_iter()
        .find(|s| {
            wanted
                .as_object()
                .unwrap()
                .iter()
                .all(|(k, v)| &s["metadata"]["labels"][k] == v)
        })
        .expect("a Service the ServiceMonitor selects");
    assert_eq!(service["spec"]["clusterIP"], "None");
    assert_eq!(
        service["spec"]["ports"][0]["name"],
        monitor[0]["spec"]["endpoints"][0]["port"]
    );
    assert!(
        service["spec"]["selector"]
            .as_object()
            .unwrap()
            .get("app.kubernetes.io/component")
            .is_none(),
        "every role's pods are scraped"
    );
    let board = of_kind(&docs, "ConfigMap")
        .into_iter()
        .find(|c| c["metadata"]["labels"]["grafana_dashboard"] == "1")
        .unwrap();
    let rendered: Value =
        serde_json::from_str(board["data"]["dueflow.json"].as_str().unwrap()).unwrap();
    assert_eq!(rendered, dashboard);
    // Elsewhere they are left out rather than failing the install.
    let (_, plain) = render(&[]);
    assert!(
        of_kind(&plain, "PrometheusRule").is_empty()
            && of_kind(&plain, "ServiceMonitor").is_empty()
    );
}

#[test]
fn in_cluster_kafka_postgres_and_dapr_are_wired_together() {
    let minikube = chart().join("values-minikube.yaml");
    let minikube = minikube.to_str().unwrap();
    let (yaml, docs) = render(&["-f", minikube, "--set", "bus.type=dapr"]);
    valid(&yaml, "1.30.0").unwrap();
    let deployments = of_kind(&docs, "Deployment");
    let config = &of_kind(&docs, "ConfigMap")[0]["data"];

    // Strimzi's Kafka, with every topic dueflow uses and its dead letters.
    let kafka = &of_kind(&docs, "Kafka")[0];
    let cluster = kafka["metadata"]["name"].as_str().unwrap();
    let mut topics: Vec<&str> = of_kind(&docs, "KafkaTopic")
        .iter()
        .inspect(|t| assert_eq!(t["metadata"]["labels"]["strimzi.io/cluster"], cluster))
        .map(|t| t["spec"]["topicName"].as_str().unwrap())
        .collect();
    topics.sort_unstable();
    // The topics the binary uses, and their dead-letter twins.
    let mut used: Vec<String> = [TASK_EVENTS, REMINDERS, TASK_UPDATES]
        .iter()
        .flat_map(|t| [t.to_string(), format!("{t}.dlq")])
        .collect();
    used.sort_unstable();
    assert_eq!(topics, used);
    let pool = &of_kind(&docs, "KafkaNodePool")[0];
    assert_eq!(pool["metadata"]["labels"]["strimzi.io/cluster"], cluster);
    let bootstrap = format!("{cluster}-kafka-bootstrap:9092");

    // Dapr's pub/sub over it, named as dueflow publishes, for every app id.
    let components = of_kind(&docs, "Component");
    let pubsub = components
        .iter()
        .find(|c| c["spec"]["type"] == "pubsub.kafka")
        .unwrap();
    assert_eq!(pubsub["metadata"]["name"], config["DUEFLOW_DAPR_PUBSUB"]);
    let brokers = pubsub["spec"]["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "brokers")
        .unwrap();
    assert_eq!(brokers["value"], bootstrap.as_str());
    let mut ids: Vec<&Value> = deployments
        .iter()
        .map(|d| &d["spec"]["template"]["metadata"]["annotations"]["dapr.io/app-id"])
        .collect();
    ids.sort_by_key(|v| v.as_str().unwrap().to_owned());
    let scopes: Vec<&Value> = pubsub["scopes"].as_array().unwrap().iter().collect();
    assert_eq!(scopes, ids);
    assert!(
        components
            .iter()
            .any(|c| c["spec"]["type"] == "secretstores.kubernetes")
    );
    let resiliency = &of_kind(&docs, "Resiliency")[0];
    assert!(
        resiliency["spec"]["targets"]["components"][pubsub["metadata"]["name"].as_str().unwrap()]
            .is_object()
    );

    // CloudNativePG's PostgreSQL, whose app Secret dueflow reads.
    let pg = &of_kind(&docs, "Cluster")[0];
    let secret = format!("{}-app", pg["metadata"]["name"].as_str().unwrap());
    for d in &deployments {
        let volumes = d["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
        let database = volumes.iter().find(|v| v["name"] == "database").unwrap();
        assert_eq!(database["secret"]["secretName"], secret.as_str());
    }
    assert!(
        config["DUEFLOW_DATABASE_URL_FILE"]
            .as_str()
            .unwrap()
            .ends_with("/uri")
    );

    // With network policies, the in-cluster services are reached by their
    // pods' labels (ipBlock does not match pod addresses everywhere).
    let (yaml, docs) = render(&["-f", minikube, "--set", "networkPolicy.enabled=true"]);
    valid(&yaml, "1.30.0").unwrap();
    let egress = of_kind(&docs, "NetworkPolicy")
        .into_iter()
        .find(|p| p["spec"]["policyTypes"].as_array().unwrap().len() == 2)
        .unwrap()["spec"]["egress"]
        .to_string();
    assert!(
        egress.contains(&format!(
            "\"cnpg.io/cluster\":\"{}\"",
            pg["metadata"]["name"].as_str().unwrap()
        )),
        "{egress}"
    );
    assert!(
        egress.contains(&format!("\"strimzi.io/cluster\":\"{cluster}\"")),
        "{egress}"
    );

    // Over Kafka instead, dueflow itself connects to the same bootstrap.
    let (_, docs) = render(&["-f", minikube]);
    assert_eq!(
        of_kind(&docs, "ConfigMap")[0]["data"]["DUEFLOW_KAFKA_BROKERS"],
        bootstrap.as_str()
    );
    assert!(of_kind(&docs, "Component").is_empty());

    // A managed Kafka's SASL credentials come from a Secret.
    let (_, docs) = render(&[
        "--set",
        "bus.type=dapr",
        "--set",
        "bus.kafka.brokers=b1.example.cloud:9092",
        "--set",
        "bus.dapr.saslSecret=kafka-credentials",
    ]);
    let components = of_kind(&docs, "Component");
    let pubsub = components
        .iter()
        .find(|c| c["spec"]["type"] == "pubsub.kafka")
        .unwrap();
    let meta = pubsub["spec"]["metadata"].as_array().unwrap();
    let field = |n: &str| meta.iter().find(|m| m["name"] == n).unwrap().clone();
    assert_eq!(field("authType")["value"], "password");
    assert_eq!(
        field("saslPassword")["secretKeyRef"]["name"],
        "kafka-credentials"
    );
    assert_eq!(
        field("saslUsername")["secretKeyRef"]["name"],
        "kafka-credentials"
    );
    assert!(
        components
            .iter()
            .any(|c| c["spec"]["type"] == "secretstores.kubernetes")
    );

    // Secrets through a Dapr secret store and reminders timed by Dapr's
    // jobs, in the settings tests/dapr.rs starts the binary with; no
    // database Secret is mounted then.
    let (yaml, docs) = render(&[
        "--set",
        "bus.type=dapr",
        "--set",
        "bus.dapr.secretStore=vault",
        "--set",
        "bus.dapr.jobs=true",
    ]);
    valid(&yaml, "1.30.0").unwrap();
    let config = &of_kind(&docs, "ConfigMap")[0]["data"];
    assert_eq!(config["DUEFLOW_DAPR_SECRET_STORE"], "vault");
    assert_eq!(config["DUEFLOW_DAPR_SECRET_NAME"], "dueflow");
    assert_eq!(config["DUEFLOW_SCHEDULER_TIMER"], "dapr_jobs");
    assert!(
        config.get("DUEFLOW_DATABASE_URL_FILE").is_none(),
        "{config}"
    );
    for d in of_kind(&docs, "Deployment") {
        let pod = &d["spec"]["template"]["spec"];
        let volumes = pod["volumes"].to_string();
        assert!(!volumes.contains("\"database\""), "{volumes}");
        // The sidecar reads the store with the pods' service account.
        assert_eq!(pod["automountServiceAccountToken"], true);
    }
    let role = &of_kind(&docs, "Role")[0];
    assert_eq!(role["rules"][0]["resourceNames"], json!(["dueflow"]));
    assert_eq!(role["rules"][0]["verbs"], json!(["get"]));
    let binding = &of_kind(&docs, "RoleBinding")[0];
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(
        binding["subjects"][0]["name"],
        of_kind(&docs, "ServiceAccount")[0]["metadata"]["name"]
    );
}

/// API groups kubernetes-validate knows; any other kind needs a schema in
/// `deploy/schemas`.
const BUILT_IN_GROUPS: [&str; 7] = [
    "",
    "apps",
    "policy",
    "autoscaling",
    "batch",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
];

/// Fields of `value` its `schema` does not know, as Kubernetes would prune
/// them (unless the schema keeps unknown fields or leaves them open).
fn unknown_fields(schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let known = schema.get("properties").and_then(Value::as_object);
            let open = schema["x-kubernetes-preserve-unknown-fields"] == true;
            for (k, v) in map {
                let here = format!("{at}.{k}");
                match (
                    known.and_then(|p| p.get(k)),
                    schema.get("additionalProperties"),
                ) {
                    (Some(s), _) => unknown_fields(s, v, &here, out),
                    (None, Some(s @ Value::Object(_))) => unknown_fields(s, v, &here, out),
                    (None, Some(Value::Bool(true))) => {}
                    (None, _) if open || known.is_none() => {}
                    (None, _) => out.push(format!("{here} is not in the schema")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    unknown_fields(s, v, &format!("{at}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Check every custom resource of `docs` against its project's schema;
/// returns how many there were, or what is wrong.
fn custom_resources(docs: &[Value]) -> Result<usize, Vec<String>> {
    let mut problems = Vec::new();
    let mut n = 0;
    for d in docs {
        let api = d["apiVersion"].as_str().unwrap();
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        if BUILT_IN_GROUPS.contains(&group) {
            continue;
        }
        n += 1;
        let kind = d["kind"].as_str().unwrap();
        let what = format!("{kind} {}", d["metadata"]["name"]);
        let file = repo().join(format!("deploy/schemas/{group}_{version}_{kind}.json"));
        let Ok(text) = std::fs::read_to_string(&file) else {
            problems.push(format!("{what} ({api}): no schema in deploy/schemas"));
            continue;
        };
        let schema: Value = serde_json::from_str(&text).unwrap();
        let schema = &schema["schema"];
        let validator = jsonschema::validator_for(schema).unwrap();
        problems.extend(
            validator
                .iter_errors(d)
                .map(|e| format!("{what}: {e} at {}", e.instance_path())),
        );
        let mut unknown = Vec::new();
        unknown_fields(schema, d, "", &mut unknown);
        problems.extend(unknown.into_iter().map(|u| format!("{what}: {u}")));
    }
    if problems.is_empty() {
        Ok(n)
    } else {
        Err(problems)
    }
}

#[test]
fn custom_resources_match_their_projects_schemas() {
    let minikube = chart().join("values-minikube.yaml");
    let minikube = minikube.to_str().unwrap();
    for (name, values, expected) in [
        ("minikube", vec!["-f", minikube], 9),
        (
            "minikube with dapr",
            vec!["-f", minikube, "--set", "bus.type=dapr"],
            12,
        ),
        (
            "a managed Kafka through dapr",
            vec![
                "--set",
                "bus.type=dapr",
                "--set",
                "bus.dapr.saslSecret=kafka-credentials",
            ],
            3,
        ),
        (
            "the Prometheus Operator",
            vec!["--api-versions", "monitoring.coreos.com/v1"],
            2,
        ),
        ("KEDA", vec!["--set", "keda.enabled=true"], 3),
    ] {
        let (_, docs) = render(&values);
        match custom_resources(&docs) {
            Ok(n) => assert_eq!(n, expected, "{name}"),
            Err(problems) => panic!("{name}:\n{}", problems.join("\n")),
        }
    }

    // The check refuses a misspelt field and a kind it has no schema for.
    let (_, mut docs) = render(&["-f", minikube]);
    let topic = docs.iter_mut().find(|d| d["kind"] == "KafkaTopic").unwrap();
    topic["spec"]["partitionz"] = serde_json::json!(3);
    topic["spec"]["replicas"] = serde_json::json!("three");
    let problems = custom_resources(&docs).unwrap_err().join("\n");
    assert!(
        problems.contains(".spec.partitionz is not in the schema"),
        "{problems}"
    );
    assert!(problems.contains("\"three\""), "{problems}");
    let unknown = serde_json::json!({ "apiVersion": "example.com/v1", "kind": "Widget", "metadata": { "name": "w" } });
    let problems = custom_resources(&[unknown]).unwrap_err().join("\n");
    assert!(problems.contains("no schema"), "{problems}");
}

#[test]
fn the_workflows_pass_actionlint_and_an_offline_security_audit() {
    let workflows = repo().join(".github/workflows");
    let lint = |dir: &Path| {
        run(Command::new(tool("DUEFLOW_TEST_ACTIONLINT"))
            .current_dir(repo())
            .arg("-no-color")
            .args(
                std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "yml")),
            ))
    };
    let audit = |dir: &Path| {
        run(Command::new(tool("DUEFLOW_TEST_ZIZMOR"))
            .args(["--offline", "--no-progress"])
            .arg(dir))
    };
    let out = lint(&workflows);
    assert!(out.status.success(), "{}", text(&out));
    let out = audit(&workflows);
    assert!(out.status.success(), "{}", text(&out));

    // Both refuse what they exist to catch: a step that runs an untrusted
    // title as shell, from an action pinned to a moving tag.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yml"),
        "on: pull_request_target\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      \
         - uses: actions/checkout@v4\n      - run: echo \"${{ github.event.pull_request.title }}\"\n        \
         shell: bashh\n",
    )
    .unwrap();
    assert!(
        !lint(dir.path()).status.success(),
        "actionlint passes anything"
    );
    assert!(
        !audit(dir.path()).status.success(),
        "zizmor passes anything"
    );
}

/// The metric names the alerts and the dashboard's queries read.
fn named_metrics() -> BTreeSet<String> {
    let alerts = std::fs::read_to_string(chart().join("files/alerts.yaml")).unwrap();
    let mut queries: Vec<String> = alerts
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr: ").map(str::to_owned))
        .collect();
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(chart().join("files/dashboard.json")).unwrap(),
    )
    .unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            queries.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    queries
        .iter()
        .flat_map(|q| q.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')))
        .filter(|w| w.starts_with("dueflow_") || w.starts_with("http_"))
        .map(str::to_owned)
        .collect()
}

/// Every role in one process over Kafka and PostgreSQL, scraped after a
/// write and a reminder: each metric an alert or a panel reads is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_alerts_and_dashboard_read_is_exported() {
    let names = named_metrics();
    assert!(names.len() >= 12, "{names:?}");
    let cluster = common::kafka::Cluster::start().await;
    let port = common::process::free_port();
    let _all = cluster.role("api,recurring,scheduler,notifier,audit", port);
    let token = common::process::named_user_with_token(&common::kafka::env(&cluster.db), "ann");
    let api = common::kafka::Api::new(port, token);
    let due = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    api.create_with(json!({ "title": "Soon", "due": due, "reminders": [{ "before": "PT0S" }] }))
        .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let scrape = api.metrics().await;
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| {
                !scrape.lines().any(|l| {
                    l.strip_prefix(n.as_str())
                        .is_some_and(|r| r.starts_with(['{', ' ']))
                })
            })
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not exported after a minute: {missing:?}\n{scrape}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn keda_scales_the_consumer_roles_on_their_own_groups() {
    use dueflow_workers::{AUDIT_GROUP, NOTIFIER_GROUP, RECURRING_GROUP};
    let (_, docs) = render(&["--set", "keda.enabled=true"]);
    let scaled = of_kind(&docs, "ScaledObject");
    let mut seen = Vec::new();
    for so in &scaled {
        let target = so["spec"]["scaleTargetRef"]["name"].as_str().unwrap();
        let role = target.strip_prefix("dueflow-").unwrap();
        let group = match role {
            "recurring" => RECURRING_GROUP,
            "notifier" => NOTIFIER_GROUP,
            "audit" => AUDIT_GROUP,
            other => panic!("KEDA scales {other}"),
        };
        for trigger in so["spec"]["triggers"].as_array().unwrap() {
            assert_eq!(trigger["type"], "kafka");
            assert_eq!(trigger["metadata"]["consumerGroup"], group, "{role}");
            let topic = trigger["metadata"]["topic"].as_str().unwrap();
            assert!([TASK_EVENTS, REMINDERS].contains(&topic), "{role}: {topic}");
        }
        let deployment = of_kind(&docs, "Deployment")
            .into_iter()
            .find(|d| d["metadata"]["name"] == target)
            .unwrap();
        assert!(
            deployment["spec"]["replicas"].is_null(),
            "KEDA owns {target}'s replicas"
        );
        seen.push(role.to_owned());
    }
    seen.sort();
    assert_eq!(seen, ["audit", "notifier", "recurring"]);
    // A Deployment that also runs api is not KEDA's; nor is anything on Dapr.
    let minikube = chart().join("values-minikube.yaml");
    let (_, docs) = render(&[
        "-f",
        minikube.to_str().unwrap(),
        "--set",
        "keda.enabled=true",
    ]);
    assert_eq!(of_kind(&docs, "ScaledObject").len(), 2);
    let (_, docs) = render(&["--set", "keda.enabled=true", "--set", "bus.type=dapr"]);
    assert!(of_kind(&docs, "ScaledObject").is_empty());
}

/// buildah on the vfs storage the image tools set up, as root (through
/// sudo when the tests are not).
fn buildah_command() -> Command {
    let mut cmd = if is_root() {
        Command::new(tool("DUEFLOW_TEST_BUILDAH"))
    } else {
        let mut c = Command::new("sudo");
        c.arg(tool("DUEFLOW_TEST_BUILDAH"));
        c
    };
    cmd.args(["--storage-driver", "vfs"]);
    cmd
}

fn buildah(args: &[&str]) -> Output {
    run(buildah_command().args(args))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// The uid a process whose command line holds `marker` runs as.
fn uid_of(marker: &str) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !cmdline.starts_with("/dueflow ") || !cmdline.contains(marker) {
            return None;
        }
        let status = std::fs::read_to_string(e.path().join("status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|u| u.split_whitespace().next()?.parse().ok())
    })
}

/// An image and its containers, removed when the test ends, however.
struct Built {
    tag: String,
    containers: Vec<String>,
    listen: Option<String>,
}

impl Drop for Built {
    fn drop(&mut self) {
        if let Some(listen) = &self.listen {
            // The chrooted process may outlive `buildah run`.
            let _ = run(Command::new("pkill").args([
                "-9",
                "-f",
                &format!("/dueflow serve --listen {listen}"),
            ]));
        }
        for c in &self.containers {
            let _ = buildah(&["rm", c]);
        }
        let _ = buildah(&["rmi", &self.tag]);
    }
}

/// The Dockerfile's runtime stage, fed this build's binary on a local
/// Debian base (no registry image can be pulled here), then run: it answers
/// its probes as the non-root user, with the image's entrypoint and user.
#[test]
fn the_image_builds_and_runs_as_non_root() {
    let base = tool("DUEFLOW_TEST_IMAGE_BASE");
    let ctx = tempfile::tempdir().unwrap();
    std::fs::create_dir(ctx.path().join("bin")).unwrap();
    std::fs::copy(
        repo().join("deploy/container/Dockerfile"),
        ctx.path().join("Dockerfile"),
    )
    .unwrap();
    std::fs::copy(common::process::BIN, ctx.path().join("bin/dueflow")).unwrap();
    let mut built = Built {
        tag: format!("localhost/dueflow-test:{}", std::process::id()),
        containers: Vec::new(),
        listen: None,
    };
    let out = buildah(&[
        "bud",
        "--isolation",
        "chroot",
        "--target",
        "runtime-prebuilt",
        "--build-arg",
        &format!("RUNTIME_IMAGE={}", base.display()),
        "--build-arg",
        "BINARY=bin/dueflow",
        "-t",
        &built.tag,
        ctx.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = buildah(&["inspect", "--type", "image", &built.tag]);
    assert!(out.status.success(), "{}", text(&out));
    let inspected: Value = serde_json::from_slice(&out.stdout).unwrap();
    let config = &inspected["OCIv1"]["config"];
    assert_eq!(config["User"], "65532:65532", "{config}");
    assert_eq!(config["Entrypoint"], json!(["/dueflow"]));
    assert_eq!(config["Cmd"], json!(["serve", "--listen", "0.0.0.0:8080"]));

    let out = buildah(&["from", &built.tag]);
    assert!(out.status.success(), "{}", text(&out));
    let container = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    built.containers.push(container.clone());
    let port = common::process::free_port();
    let listen = format!("127.0.0.1:{port}");
    built.listen = Some(listen.clone());
    let _running = common::process::Proc::spawn(
        buildah_command()
            .args(["run", "--isolation", "chroot", "--network", "host"])
            .arg(&container)
            .args([
                "--",
                "/dueflow",
                "serve",
                "--listen",
                &listen,
                "--data-dir",
                "/tmp/data",
            ]),
        "the image",
    );
    common::process::wait_for_port(port, "the image's dueflow");
    let get = |path: &str| {
        let out = run(Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://{listen}{path}")));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(get("/healthz"), "200");
    assert_eq!(get("/readyz"), "200");
    assert_eq!(
        uid_of(&listen),
        Some(65532),
        "the process runs as the image's user"
    );
}
