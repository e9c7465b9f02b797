//! Server configuration, layered: defaults, then a TOML file, then
//! `DUEFLOW_*` environment variables, then flags. Validated once at
//! start-up; the database URL's password is redacted whenever it is shown.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::cli::ServerArgs;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Empty means the SQLite file `dueflow.db` inside `data_dir`.
    pub database_url: String,
    pub listen: String,
    pub open_registration: bool,
    pub secure_cookies: bool,
    /// tracing filter, e.g. `info` or `dueflow=debug`.
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            listen: "127.0.0.1:8080".into(),
            open_registration: false,
            secure_cookies: false,
            log: "info".into(),
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
}

const ENV_KEYS: [&str; 6] = [
    "data_dir",
    "database_url",
    "listen",
    "open_registration",
    "secure_cookies",
    "log",
];

impl Config {
    pub fn load(args: &ServerArgs) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &args.config {
            if !path.exists() {
                bail!("configuration file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig
            .merge(Env::prefixed("DUEFLOW_").only(&ENV_KEYS))
            .merge(Serialized::globals(Flags {
                data_dir: args.data_dir.clone(),
                database_url: args.database_url.clone(),
                listen: args.listen.clone(),
            }));
        let config: Config = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.listen.parse::<SocketAddr>().with_context(|| {
            format!(
                "invalid configuration: listen = '{}' is not HOST:PORT",
                self.listen
            )
        })?;
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

    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite:{}", self.data_dir.join("dueflow.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// Open the configured store, creating the data directory for SQLite.
    pub async fn open_store(&self) -> anyhow::Result<std::sync::Arc<dyn dueflow_store::Store>> {
        let url = self.database_url();
        if url.starts_with("sqlite:") {
            std::fs::create_dir_all(&self.data_dir).with_context(|| {
                format!("cannot create data directory {}", self.data_dir.display())
            })?;
        }
        dueflow_store::connect(&url)
            .await
            .with_context(|| format!("cannot open database {}", redact(&url)))
    }
}

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:data/x.db"), "sqlite:data/x.db");
    }

    #[test]
    fn flags_override_and_bad_listen_is_refused() {
        let args = ServerArgs {
            listen: Some("nonsense".into()),
            ..Default::default()
        };
        let e = Config::load(&args).unwrap_err().to_string();
        assert!(e.contains("listen"), "{e}");
        let args = ServerArgs {
            listen: Some("127.0.0.1:9999".into()),
            data_dir: Some("/tmp/x".into()),
            ..Default::default()
        };
        let c = Config::load(&args).unwrap();
        assert_eq!(c.database_url(), "sqlite:/tmp/x/dueflow.db");
    }
}
