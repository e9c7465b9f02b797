//! Server configuration, layered: defaults, then a TOML file, then
//! `DUEFLOW_*` environment variables (a secret may instead come from the
//! file named by `DUEFLOW_<KEY>_FILE`, as Kubernetes and Docker mount
//! them, or from a Dapr secret store: `secret_store`), then flags. Validated once at start-up; the database URL's
//! password is redacted whenever it is shown.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use dueflow_api::HttpLimits;
use dueflow_api::auth::client_address::{IpNet, parse_trusted_proxies};
use dueflow_assistant::chat::LlmConfig;
use dueflow_bus::TopicNames;
use dueflow_domain::event::{REMINDERS, TASK_EVENTS, TASK_UPDATES};
use dueflow_workers::email::{SmtpConfig, SmtpTls};

use crate::cli::ServerArgs;
use crate::roles::Role;

/// No `Debug`: it holds secrets (the database URL, the SMTP password, the
/// Dapr tokens, Kafka's SASL settings).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Empty means the SQLite file `dueflow.db` inside `data_dir`.
    pub database_url: String,
    pub listen: String,
    pub open_registration: bool,
    /// This server's address as users reach it, e.g. `https://tasks.example.com`;
    /// its origin is the one cookie-authenticated requests must come from.
    /// Empty: the request's own `Host`.
    pub public_url: String,
    /// Mark the session cookie `Secure`; unset: when `public_url` is https.
    pub secure_cookies: Option<bool>,
    /// Live streams (WebSocket or SSE) one user may hold open per `api` process.
    pub max_streams_per_user: usize,
    /// Live streams one `api` process holds open at most.
    pub max_streams: usize,
    /// tracing filter, e.g. `info` or `dueflow=debug`.
    pub log: String,
    /// `text` (default) or `json`: one JSON object per line, with the
    /// trace id of the request or event it is about.
    pub log_format: String,
    /// Roles this process runs, comma-separated: api, recurring, scheduler, notifier, audit.
    pub roles: String,
    /// `inproc` (every role in this process), `kafka` or `dapr`.
    pub bus: String,
    /// `host:port,…` of the Kafka-protocol brokers.
    pub kafka_brokers: String,
    /// Extra librdkafka properties, e.g. `security.protocol`, `sasl.username`.
    pub kafka_properties: BTreeMap<String, String>,
    /// A Java-style properties file of librdkafka settings (`key=value`
    /// lines, such as the `client.properties` a managed Kafka hands out);
    /// `kafka_properties` override it. Empty: none.
    pub kafka_properties_file: String,
    /// Prepended to topic names.
    pub topic_prefix: String,
    /// The topics' names (before the prefix).
    pub topic_task_events: String,
    pub topic_reminders: String,
    pub topic_task_updates: String,
    pub kafka_session_timeout_ms: u32,
    /// The Dapr sidecar's HTTP API (bus = 'dapr').
    pub dapr_http_endpoint: String,
    /// The Dapr pub/sub component's name.
    pub dapr_pubsub: String,
    /// Token sent to the sidecar (Dapr's `DAPR_API_TOKEN`); empty: none.
    pub dapr_api_token: String,
    /// Token the sidecar must send (Dapr's `APP_API_TOKEN`); empty: none.
    pub dapr_app_token: String,
    /// A loopback `HOST:PORT` of its own for the routes the sidecar calls
    /// (the sidecar's app port points at it); empty: those routes are on
    /// `listen` and need `dapr_app_token`.
    pub dapr_app_listen: String,
    /// What times reminders for the scheduler role: `internal` (its own
    /// timer) or `dapr_jobs` (a Dapr job per reminder; bus = 'dapr').
    pub scheduler_timer: String,
    /// A Dapr secret store (e.g. `kubernetes`) to read the secrets not
    /// otherwise given from, through the sidecar's secrets API. Empty: none.
    pub dapr_secret_store: String,
    /// The secret in that store whose keys are setting names
    /// (`database_url`, `smtp_password`, `dapr_app_token`, `assistant_api_key`).
    pub dapr_secret_name: String,
    /// Let webhooks reach loopback and private addresses.
    pub webhooks_allow_private: bool,
    /// SMTP server for reminder mails; empty: no mail.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls`, `tls` or `none`.
    pub smtp_tls: String,
    pub smtp_username: String,
    pub smtp_password: String,
    /// Sender address, e.g. `dueflow <reminders@example.com>`.
    pub smtp_from: String,
    /// PEM file of certificates to trust for the SMTP server besides the
    /// system's roots; empty: the system's roots only.
    pub smtp_ca_file: String,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose
    /// `X-Forwarded-For` / `Forwarded` name the client; empty: none.
    pub trusted_proxies: String,
    /// Seconds a connection has to send a request's headers, from its
    /// opening or its previous response (so also its keep-alive idle time).
    pub http_header_timeout_secs: u64,
    /// Longest pause, in seconds, while a request body arrives.
    pub http_body_timeout_secs: u64,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Seconds an `api` process keeps serving after SIGTERM, answering
    /// `/readyz` with 503, before it stops taking connections: the time
    /// the Service's endpoints and load balancers need to stop sending it
    /// requests.
    pub shutdown_delay_secs: u64,
    /// An OpenAI-compatible Chat Completions API for chat
    /// (`https://api.openai.com/v1`); empty: chat answers offline.
    pub assistant_url: String,
    /// The model chat asks there.
    pub assistant_model: String,
    /// Its API key; empty: none is sent.
    pub assistant_api_key: String,
    /// Seconds one request to the model may take.
    pub assistant_timeout_secs: u64,
    /// The `DUEFLOW_*` variables of this process that are no setting,
    /// found as the settings are read and warned of once logging is set up.
    #[serde(skip)]
    unread_variables: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        let http = HttpLimits::default();
        Self {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            listen: "127.0.0.1:8080".into(),
            open_registration: false,
            public_url: String::new(),
            secure_cookies: None,
            max_streams_per_user: 20,
            max_streams: 512,
            log: "info".into(),
            log_format: "text".into(),
            roles: Role::ALL.map(Role::as_str).join(","),
            bus: "inproc".into(),
            kafka_brokers: String::new(),
            kafka_properties: BTreeMap::new(),
            kafka_properties_file: String::new(),
            topic_prefix: String::new(),
            topic_task_events: TASK_EVENTS.into(),
            topic_reminders: REMINDERS.into(),
            topic_task_updates: TASK_UPDATES.into(),
            kafka_session_timeout_ms: 6000,
            dapr_http_endpoint: "http://127.0.0.1:3500".into(),
            dapr_pubsub: "dueflow-pubsub".into(),
            dapr_api_token: String::new(),
            dapr_app_token: String::new(),
            dapr_app_listen: String::new(),
            scheduler_timer: "internal".into(),
            dapr_secret_store: String::new(),
            dapr_secret_name: "dueflow".into(),
            webhooks_allow_private: false,
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_tls: "starttls".into(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_from: String::new(),
            smtp_ca_file: String::new(),
            trusted_proxies: String::new(),
            http_header_timeout_secs: http.header_timeout.as_secs(),
            http_body_timeout_secs: http.body_timeout.as_secs(),
            max_connections: http.max_connections,
            shutdown_delay_secs: 0,
            assistant_url: String::new(),
            assistant_model: String::new(),
            assistant_api_key: String::new(),
            assistant_timeout_secs: 20,
            unread_variables: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bus: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kafka_brokers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<String>,
}

const ENV_KEYS: [&str; 44] = [
    "data_dir",
    "database_url",
    "listen",
    "open_registration",
    "public_url",
    "secure_cookies",
    "max_streams_per_user",
    "max_streams",
    "log",
    "log_format",
    "roles",
    "bus",
    "kafka_brokers",
    "kafka_properties_file",
    "topic_prefix",
    "topic_task_events",
    "topic_reminders",
    "topic_task_updates",
    "kafka_session_timeout_ms",
    "dapr_http_endpoint",
    "dapr_pubsub",
    "dapr_api_token",
    "dapr_app_token",
    "dapr_app_listen",
    "scheduler_timer",
    "dapr_secret_store",
    "dapr_secret_name",
    "webhooks_allow_private",
    "smtp_host",
    "smtp_port",
    "smtp_tls",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "smtp_ca_file",
    "trusted_proxies",
    "http_header_timeout_secs",
    "http_body_timeout_secs",
    "max_connections",
    "shutdown_delay_secs",
    "assistant_url",
    "assistant_model",
    "assistant_api_key",
    "assistant_timeout_secs",
];

/// Settings that may be read from the file `DUEFLOW_<KEY>_FILE` names.
const SECRET_KEYS: [&str; 5] = [
    "database_url",
    "smtp_password",
    "dapr_api_token",
    "dapr_app_token",
    "assistant_api_key",
];

/// Variables the binary reads besides the settings: the configuration
/// file's path, and the client's server and token.
const OTHER_VARIABLES: [&str; 3] = ["DUEFLOW_CONFIG", "DUEFLOW_SERVER", "DUEFLOW_TOKEN"];

/// The `DUEFLOW_*` variables read by their exact name: a `_FILE` twin per
/// secret, and [`OTHER_VARIABLES`]. A setting's own variable is read in any
/// case (as figment matches it).
fn exact_variables() -> BTreeSet<String> {
    SECRET_KEYS
        .iter()
        .map(|k| format!("DUEFLOW_{}_FILE", k.to_uppercase()))
        .chain(OTHER_VARIABLES.map(String::from))
        .collect()
}

/// The `DUEFLOW_*` names among `names` that the binary does not read, such
/// as a misspelt setting, in order.
fn unread_variables(names: impl Iterator<Item = OsString>) -> Vec<String> {
    let exact = exact_variables();
    let is_setting = |name: &str| {
        let key = name["DUEFLOW_".len()..].to_ascii_lowercase();
        ENV_KEYS.contains(&key.as_str())
    };
    let mut unread: Vec<String> = names
        .filter_map(|n| n.into_string().ok())
        .filter(|n| n.starts_with("DUEFLOW_") && !exact.contains(n) && !is_setting(n))
        .collect();
    unread.sort_unstable();
    unread
}

/// The secrets given as files: key → the file's text without its final
/// line break. `var` reads the environment.
fn secret_files(
    var: impl Fn(&str) -> Option<OsString>,
) -> anyhow::Result<BTreeMap<&'static str, String>> {
    let mut out = BTreeMap::new();
    for key in SECRET_KEYS {
        let name = format!("DUEFLOW_{}", key.to_uppercase());
        let Some(path) = var(&format!("{name}_FILE")) else {
            continue;
        };
        if var(&name).is_some() {
            bail!("invalid configuration: both {name} and {name}_FILE are set; use one");
        }
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "invalid configuration: {name}_FILE: cannot read {}",
                Path::new(&path).display()
            )
        })?;
        out.insert(key, text.trim_end_matches(['\r', '\n']).to_owned());
    }
    Ok(out)
}

/// `key=value` (or `key: value`) lines of a Java-style properties file;
/// blank lines and lines starting with `#` or `!` are skipped.
fn parse_properties(text: &str, path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', '!']) {
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            bail!(
                "invalid configuration: kafka_properties_file {} line {}: expected key=value",
                path.display(),
                n + 1
            );
        };
        out.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Ok(out)
}

impl Config {
    /// The settings as the file, the environment, secret files and flags
    /// make them. When they are refused, the error also names any
    /// `DUEFLOW_*` variable that is no setting: a misspelt name is the
    /// likely cause.
    pub async fn load(args: &ServerArgs) -> anyhow::Result<Config> {
        let unread = unread_variables(std::env::vars_os().map(|(name, _)| name));
        match Self::read(args).await {
            Ok(config) => Ok(Config {
                unread_variables: unread,
                ..config
            }),
            Err(e) if unread.is_empty() => Err(e),
            Err(e) => Err(anyhow::anyhow!(
                "{e:#} ({} set, but dueflow has no such setting)",
                unread.join(", ")
            )),
        }
    }

    /// A warning for each `DUEFLOW_*` variable of this process that is no
    /// setting: a misspelt one would otherwise go unnoticed, its default in
    /// force. Called once logging is set up.
    pub fn warn_of_unread_variables(&self) {
        for name in &self.unread_variables {
            tracing::warn!(
                variable = %name,
                "{name} is set, but dueflow has no such setting: it is ignored. The settings \
                 and their variables are listed in the README (Configuration)"
            );
        }
    }

    async fn read(args: &ServerArgs) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &args.config {
            if !path.exists() {
                bail!("configuration file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig
            .merge(Env::prefixed("DUEFLOW_").only(&ENV_KEYS))
            .merge(Serialized::globals(secret_files(|k| std::env::var_os(k))?))
            .merge(Serialized::globals(Flags {
                data_dir: args.data_dir.clone(),
                database_url: args.database_url.clone(),
                listen: args.listen.clone(),
                roles: args.roles.clone(),
                bus: args.bus.clone(),
                kafka_brokers: args.kafka_brokers.clone(),
                log_format: args.log_format.clone(),
            }));
        let mut config: Config = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        config.read_kafka_properties_file()?;
        crate::secret_store::fill(&mut config).await?;
        config.validate()?;
        Ok(config)
    }

    /// Fold the properties file under the `kafka_properties` table.
    fn read_kafka_properties_file(&mut self) -> anyhow::Result<()> {
        if self.kafka_properties_file.is_empty() {
            return Ok(());
        }
        let path = Path::new(&self.kafka_properties_file);
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "invalid configuration: cannot read kafka_properties_file {}",
                path.display()
            )
        })?;
        let mut properties = parse_properties(&text, path)?;
        properties.append(&mut self.kafka_properties);
        self.kafka_properties = properties;
        Ok(())
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.listen.parse::<SocketAddr>().with_context(|| {
            format!(
                "invalid configuration: listen = '{}' is not HOST:PORT",
                self.listen
            )
        })?;
        let roles = self.roles()?;
        match self.bus.as_str() {
            "inproc" if roles.len() != Role::ALL.len() => bail!(
                "invalid configuration: bus = 'inproc' runs every role in one process; \
                 use bus = 'kafka' or 'dapr' to run only '{}'",
                self.roles
            ),
            "inproc" => {}
            "kafka"
                if self.kafka_brokers.trim().is_empty()
                    && !self.kafka_properties.contains_key("bootstrap.servers") =>
            {
                bail!(
                    "invalid configuration: bus = 'kafka' needs kafka_brokers (DUEFLOW_KAFKA_BROKERS) \
                     or bootstrap.servers in kafka_properties"
                )
            }
            "kafka" => {}
            "dapr" if !self.dapr_http_endpoint.starts_with("http") => bail!(
                "invalid configuration: dapr_http_endpoint = '{}' is not an http:// URL",
                self.dapr_http_endpoint
            ),
            "dapr" => {
                self.dapr_app_listen()?;
            }
            other => bail!("invalid configuration: bus = '{other}'; use inproc, kafka or dapr"),
        }
        match (self.scheduler_timer.as_str(), self.bus.as_str()) {
            ("internal", _) | ("dapr_jobs", "dapr") => {}
            ("dapr_jobs", bus) => bail!(
                "invalid configuration: scheduler_timer = 'dapr_jobs' needs bus = 'dapr' (the \
                 sidecar calls the app back when a job falls due), not '{bus}'"
            ),
            (other, _) => {
                bail!(
                    "invalid configuration: scheduler_timer = '{other}'; use internal or dapr_jobs"
                )
            }
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "invalid configuration: log_format = '{}'; use text or json",
                self.log_format
            );
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log) {
            bail!(
                "invalid configuration: log = '{}' is not a log filter ({e}); use a level such \
                 as info or debug, or directives such as 'info,dueflow_api=debug'",
                self.log
            );
        }
        self.smtp()?;
        self.topics()?;
        self.public_url()?;
        if self.max_streams_per_user == 0 || self.max_streams == 0 {
            bail!("invalid configuration: max_streams_per_user and max_streams are at least 1");
        }
        self.trusted_proxies()?;
        for (key, value, max) in [
            (
                "http_header_timeout_secs",
                self.http_header_timeout_secs,
                86_400,
            ),
            (
                "http_body_timeout_secs",
                self.http_body_timeout_secs,
                86_400,
            ),
            ("max_connections", self.max_connections as u64, 1_000_000),
        ] {
            if !(1..=max).contains(&value) {
                bail!("invalid configuration: {key} = {value}; use 1–{max}");
            }
        }
        if self.shutdown_delay_secs > 600 {
            bail!(
                "invalid configuration: shutdown_delay_secs = {}; use 0–600 (and less than \
                 the time the process is given to stop)",
                self.shutdown_delay_secs
            );
        }
        // Every live stream holds a connection: streams alone must never
        // take every place, or nothing else gets in.
        if self.max_streams >= self.max_connections {
            bail!(
                "invalid configuration: max_streams = {} must be below max_connections = {} \
                 (every live stream holds a connection; leave room for other requests)",
                self.max_streams,
                self.max_connections
            );
        }
        let url = self.database_url();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            bail!(
                "invalid configuration: database_url = '{}' must start with sqlite: or postgres://",
                redact(&url)
            );
        }
        Ok(())
    }

    /// `public_url`, if set: an absolute http(s) URL.
    pub fn public_url(&self) -> anyhow::Result<Option<url::Url>> {
        if self.public_url.is_empty() {
            return Ok(None);
        }
        let bad = || {
            anyhow::anyhow!(
                "invalid configuration: public_url = '{}' is not an absolute http:// or https:// \
                 URL like https://tasks.example.com",
                self.public_url
            )
        };
        let url = url::Url::parse(&self.public_url).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad());
        }
        Ok(Some(url))
    }

    /// The SMTP server reminder mails go through, if one is set.
    /// What the operations accept, as configured.
    pub fn app(&self) -> anyhow::Result<dueflow_app::AppConfig> {
        Ok(dueflow_app::AppConfig {
            open_registration: self.open_registration,
            webhooks_allow_private: self.webhooks_allow_private,
            mail: self.smtp()?.is_some(),
            ..dueflow_app::AppConfig::default()
        })
    }

    pub fn smtp(&self) -> anyhow::Result<Option<SmtpConfig>> {
        if self.smtp_host.trim().is_empty() {
            return Ok(None);
        }
        let tls = SmtpTls::parse(&self.smtp_tls).ok_or_else(|| {
            anyhow::anyhow!(
                "invalid configuration: smtp_tls = '{}'; use starttls, tls or none",
                self.smtp_tls
            )
        })?;
        if self.smtp_from.trim().is_empty() {
            bail!(
                "invalid configuration: smtp_host is set, so smtp_from (DUEFLOW_SMTP_FROM) is needed"
            );
        }
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let ca_pem = match self.smtp_ca_file.as_str() {
            "" => None,
            path => Some(std::fs::read(path).with_context(|| {
                format!("invalid configuration: cannot read smtp_ca_file {path}")
            })?),
        };
        Ok(Some(SmtpConfig {
            host: self.smtp_host.trim().to_owned(),
            port: self.smtp_port,
            tls,
            username: opt(&self.smtp_username),
            password: opt(&self.smtp_password),
            from: self.smtp_from.clone(),
            ca_pem,
        }))
    }

    /// The model chat asks, if one is set.
    pub fn assistant(&self) -> anyhow::Result<Option<LlmConfig>> {
        let url = self.assistant_url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let parsed = url::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if parsed.is_none() {
            bail!(
                "invalid configuration: assistant_url = '{url}' must be an http:// or https:// URL \
                 such as https://api.openai.com/v1"
            );
        }
        if self.assistant_model.trim().is_empty() {
            bail!(
                "invalid configuration: assistant_url is set, so assistant_model \
                 (DUEFLOW_ASSISTANT_MODEL) is needed"
            );
        }
        if self.assistant_timeout_secs == 0 {
            bail!("invalid configuration: assistant_timeout_secs must be at least 1");
        }
        Ok(Some(LlmConfig {
            url: url.to_owned(),
            model: self.assistant_model.trim().to_owned(),
            api_key: (!self.assistant_api_key.is_empty()).then(|| self.assistant_api_key.clone()),
            timeout: Duration::from_secs(self.assistant_timeout_secs),
        }))
    }

    /// The proxies whose forwarding headers name the client.
    pub fn trusted_proxies(&self) -> anyhow::Result<Vec<IpNet>> {
        parse_trusted_proxies(&self.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("invalid configuration: trusted_proxies: {e}"))
    }

    /// Timeouts and the connection cap of the HTTP listener.
    pub fn http_limits(&self) -> HttpLimits {
        HttpLimits {
            header_timeout: Duration::from_secs(self.http_header_timeout_secs),
            body_timeout: Duration::from_secs(self.http_body_timeout_secs),
            max_connections: self.max_connections,
        }
    }

    /// The topics' names on the broker, validated as Kafka names.
    pub fn topics(&self) -> anyhow::Result<TopicNames> {
        let mut renamed = BTreeMap::new();
        for (key, builtin, name) in [
            ("topic_task_events", TASK_EVENTS, &self.topic_task_events),
            ("topic_reminders", REMINDERS, &self.topic_reminders),
            ("topic_task_updates", TASK_UPDATES, &self.topic_task_updates),
        ] {
            let full = format!("{}{name}", self.topic_prefix);
            let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
            // `.dlq` is appended for the dead-letter twin.
            if name.is_empty() || full.len() > 245 || !full.chars().all(legal) {
                bail!(
                    "invalid configuration: {key} = '{name}' (with topic_prefix '{}'): a topic \
                     name has 1–245 characters of a–z, A–Z, 0–9, '.', '_' and '-'",
                    self.topic_prefix
                );
            }
            if name != builtin {
                renamed.insert(builtin.to_owned(), name.clone());
            }
        }
        let names = [
            &self.topic_task_events,
            &self.topic_reminders,
            &self.topic_task_updates,
        ];
        if names[0] == names[1] || names[0] == names[2] || names[1] == names[2] {
            bail!(
                "invalid configuration: topic_task_events, topic_reminders and topic_task_updates must differ"
            );
        }
        Ok(TopicNames {
            prefix: self.topic_prefix.clone(),
            renamed,
        })
    }

    /// Where the routes the Dapr sidecar calls are served, when not on
    /// `listen`: only loopback, and without it only the app token tells
    /// the sidecar's deliveries from anyone else's requests.
    pub fn dapr_app_listen(&self) -> anyhow::Result<Option<SocketAddr>> {
        if self.dapr_app_listen.is_empty() {
            if self.dapr_app_token.is_empty() {
                bail!(
                    "invalid configuration: bus = 'dapr' needs dapr_app_token (DUEFLOW_DAPR_APP_TOKEN, \
                     Dapr's APP_API_TOKEN) or dapr_app_listen (DUEFLOW_DAPR_APP_LISTEN) on a loopback \
                     address, so that only the sidecar can deliver events"
                );
            }
            return Ok(None);
        }
        match self.dapr_app_listen.parse::<SocketAddr>() {
            Ok(addr) if addr.ip().is_loopback() => Ok(Some(addr)),
            _ => bail!(
                "invalid configuration: dapr_app_listen = '{}' must be a loopback HOST:PORT, \
                 such as 127.0.0.1:3001",
                self.dapr_app_listen
            ),
        }
    }

    /// The roles to run, validated.
    pub fn roles(&self) -> anyhow::Result<Vec<Role>> {
        let mut out = Vec::new();
        for name in self
            .roles
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            let role = Role::parse(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "invalid configuration: unknown role '{name}'; roles are {}",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })?;
            if !out.contains(&role) {
                out.push(role);
            }
        }
        if out.is_empty() {
            bail!("invalid configuration: roles is empty");
        }
        Ok(out)
    }

    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite:{}", self.data_dir.join("dueflow.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// The SQLite file this configuration names, if it names one.
    fn sqlite_file(&self) -> Option<PathBuf> {
        let url = self.database_url();
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        Some(PathBuf::from(path))
    }

    /// Refuse a SQLite database that is not there: opening it would create
    /// a new, empty one, most likely in the wrong directory. Only `serve`
    /// and `migrate` create a database.
    pub fn require_existing_database(&self) -> anyhow::Result<()> {
        match self.sqlite_file() {
            Some(file) if !file.exists() => bail!(
                "no database at {}: point to yours with --data-dir or DUEFLOW_DATA_DIR \
                 (or --database / DUEFLOW_DATABASE_URL), or create this one with `dueflow migrate`",
                file.display()
            ),
            _ => Ok(()),
        }
    }

    /// Open the configured store, creating the data directory for SQLite
    /// (readable by this user only: the database holds secrets).
    pub async fn open_store(&self) -> anyhow::Result<std::sync::Arc<dyn dueflow_store::Store>> {
        let url = self.database_url();
        if url.starts_with("sqlite:") {
            let mut dir = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
            dir.recursive(true)
                .create(&self.data_dir)
                .with_context(|| {
                    format!("cannot create data directory {}", self.data_dir.display())
                })?;
        }
        dueflow_store::connect(&url)
            .await
            .with_context(|| format!("cannot open database {}", redact(&url)))
    }
}

/// The database URL as it may be shown: its password and any
/// `password` parameter (`sslpassword` too) blanked as `***`. A URL that
/// does not parse shows only its scheme.
pub fn redact(database_url: &str) -> String {
    let Some((scheme, _)) = database_url.split_once("://") else {
        return database_url.to_owned();
    };
    let Ok(mut url) = url::Url::parse(database_url) else {
        return format!("{scheme}://***");
    };
    if url.password().is_some() && url.set_password(Some("***")).is_err() {
        return format!("{scheme}://***");
    }
    let secret = |k: &str| k.to_ascii_lowercase().ends_with("password");
    if url.query_pairs().any(|(k, _)| secret(&k)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret(&k) {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_that_is_no_setting_is_named() {
        let set = [
            "PATH",
            "DUEFLOW_SMTP_HOST",
            "DUEFLOW_SMTP_HOTS",
            "DUEFLOW_SMTP_PASSWORD_FILE",
            "DUEFLOW_LISTEN_FILE",
            "DUEFLOW_CONFIG",
            "DUEFLOW_TOKEN",
            "DUEFLOW_smtp_port",
        ]
        .map(OsString::from);
        assert_eq!(
            unread_variables(set.into_iter()),
            ["DUEFLOW_LISTEN_FILE", "DUEFLOW_SMTP_HOTS"]
        );
    }

    /// The chart's templates name every variable a rendering can set; each
    /// must be one the binary reads.
    #[test]
    fn every_variable_the_chart_sets_is_read() {
        let templates =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helm/dueflow/templates");
        let mut named = BTreeSet::new();
        for entry in std::fs::read_dir(&templates).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for (at, _) in text.match_indices("DUEFLOW_") {
                let name: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if name != "DUEFLOW_" {
                    named.insert(OsString::from(name));
                }
            }
        }
        assert!(named.len() >= 20, "only {named:?} found in the templates");
        assert_eq!(unread_variables(named.into_iter()), Vec::<String>::new());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:data/x.db"), "sqlite:data/x.db");
        assert_eq!(
            redact("postgres://app:p@ss@h:5/db"),
            "postgres://app:***@h:5/db"
        );
        assert_eq!(
            redact("postgres://app@h/db?sslmode=require&password=s3cret&sslpassword=k"),
            "postgres://app@h/db?sslmode=require&password=***&sslpassword=***"
        );
        assert_eq!(redact("postgres://u:pw@[::1/db"), "postgres://***");
    }

    #[test]
    fn secrets_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db-url");
        std::fs::write(&file, "postgres://u:p@h/db\n").unwrap();
        let only_file = |k: &str| (k == "DUEFLOW_DATABASE_URL_FILE").then(|| file.clone().into());
        let found = secret_files(only_file).unwrap();
        assert_eq!(found["database_url"], "postgres://u:p@h/db");
        assert_eq!(found.len(), 1);

        let both = |k: &str| {
            k.starts_with("DUEFLOW_DATABASE_URL")
                .then(|| file.clone().into())
        };
        let e = secret_files(both).unwrap_err().to_string();
        assert!(
            e.contains("both DUEFLOW_DATABASE_URL and DUEFLOW_DATABASE_URL_FILE"),
            "{e}"
        );

        let missing =
            |k: &str| (k == "DUEFLOW_SMTP_PASSWORD_FILE").then(|| "/nonexistent/x".into());
        let e = secret_files(missing).unwrap_err().to_string();
        assert!(
            e.contains("DUEFLOW_SMTP_PASSWORD_FILE") && e.contains("/nonexistent/x"),
            "{e}"
        );
    }

    #[test]
    fn topics_can_be_renamed_and_are_checked() {
        let mut c = Config {
            topic_prefix: "prod.".into(),
            topic_reminders: "dueflow-reminders".into(),
            ..Config::default()
        };
        let t = c.topics().unwrap();
        assert_eq!(t.wire(REMINDERS), "prod.dueflow-reminders");
        assert_eq!(t.wire(TASK_EVENTS), "prod.task-events");
        c.topic_task_updates = "bad name".into();
        let e = c.topics().unwrap_err().to_string();
        assert!(e.contains("topic_task_updates = 'bad name'"), "{e}");
        c.topic_task_updates = "dueflow-reminders".into();
        let e = c.topics().unwrap_err().to_string();
        assert!(e.contains("must differ"), "{e}");
    }

    #[test]
    fn reads_java_properties() {
        let text = "# Confluent Cloud\nbootstrap.servers=pkc-1.example:9092\n\n\
                    security.protocol = SASL_SSL\n! old style\nsasl.jaas.config: a=b c=d\n";
        let p = parse_properties(text, Path::new("client.properties")).unwrap();
        assert_eq!(p["bootstrap.servers"], "pkc-1.example:9092");
        assert_eq!(p["security.protocol"], "SASL_SSL");
        assert_eq!(p["sasl.jaas.config"], "a=b c=d");
        assert_eq!(p.len(), 3);
        let e = parse_properties("ok=1\nnonsense\n", Path::new("c.properties"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.properties line 2"), "{e}");
    }

    #[test]
    fn public_url_is_an_absolute_http_url() {
        let with = |u: &str| Config {
            public_url: u.into(),
            ..Config::default()
        };
        assert!(with("").validate().is_ok());
        assert!(with("https://tasks.example.com/app/").validate().is_ok());
        for bad in [
            "tasks.example.com",
            "ftp://tasks.example.com",
            "https://",
            "/app",
        ] {
            let e = with(bad).validate().unwrap_err().to_string();
            assert!(e.contains("public_url") && e.contains(bad), "{e}");
        }
    }

    #[test]
    fn trusted_proxies_and_limits_are_checked() {
        let mut c = Config {
            trusted_proxies: "10.0.0.0/8, 192.0.2.7".into(),
            ..Config::default()
        };
        c.validate().unwrap();
        assert_eq!(c.trusted_proxies().unwrap().len(), 2);
        c.trusted_proxies = "proxy.local".into();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("trusted_proxies: 'proxy.local'"), "{e}");
        c.trusted_proxies.clear();
        c.max_streams = c.max_connections;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("must be below max_connections"), "{e}");
        c.max_streams = Config::default().max_streams;
        c.max_connections = 0;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("max_connections = 0; use 1–1000000"), "{e}");
    }

    #[test]
    fn dapr_needs_an_app_token_or_a_loopback_app_listener() {
        let dapr = |token: &str, listen: &str| Config {
            bus: "dapr".into(),
            dapr_app_token: token.into(),
            dapr_app_listen: listen.into(),
            ..Config::default()
        };
        let e = dapr("", "").validate().unwrap_err().to_string();
        assert!(
            e.contains("dapr_app_token") && e.contains("dapr_app_listen"),
            "{e}"
        );
        assert_eq!(dapr("t", "").dapr_app_listen().unwrap(), None);
        for ok in ["127.0.0.1:3001", "[::1]:3001", "127.0.0.2:1"] {
            assert!(dapr("", ok).dapr_app_listen().unwrap().is_some(), "{ok}");
        }
        for bad in [
            "0.0.0.0:3001",
            "10.0.0.1:3001",
            "[::]:1",
            "localhost:3001",
            "3001",
        ] {
            let e = dapr("t", bad).validate().unwrap_err().to_string();
            assert!(e.contains("must be a loopback"), "{bad}: {e}");
        }
        assert!(
            Config::default().validate().is_ok(),
            "other buses need neither"
        );
    }

    #[tokio::test]
    async fn flags_override_and_bad_listen_is_refused() {
        let args = ServerArgs {
            listen: Some("nonsense".into()),
            ..Default::default()
        };
        let e = Config::load(&args).await.err().unwrap().to_string();
        assert!(e.contains("listen"), "{e}");
        let args = ServerArgs {
            listen: Some("127.0.0.1:9999".into()),
            data_dir: Some("/tmp/x".into()),
            ..Default::default()
        };
        let c = Config::load(&args).await.unwrap();
        assert_eq!(c.database_url(), "sqlite:/tmp/x/dueflow.db");
    }

    #[test]
    fn a_model_for_chat_needs_a_url_and_a_name() {
        assert!(Config::default().assistant().unwrap().is_none());
        let with = |url: &str, model: &str| Config {
            assistant_url: url.into(),
            assistant_model: model.into(),
            assistant_api_key: "sk-secret".into(),
            ..Config::default()
        };
        let e = with("https://api.openai.com/v1", "")
            .assistant()
            .unwrap_err()
            .to_string();
        assert!(e.contains("assistant_model"), "{e}");
        let e = with("api.openai.com", "gpt")
            .assistant()
            .unwrap_err()
            .to_string();
        assert!(e.contains("assistant_url"), "{e}");
        let ok = with("http://127.0.0.1:11434/v1", "llama3")
            .assistant()
            .unwrap()
            .unwrap();
        assert_eq!(ok.model, "llama3");
        assert!(!format!("{ok:?}").contains("sk-secret"));
    }
}
