//! Secrets read through the Dapr sidecar's secrets API, for deployments
//! that keep them in a Dapr secret store (Kubernetes Secrets, a cloud key
//! vault) rather than mount them as files. With `dapr_secret_store` set,
//! one `GET /v1.0/secrets/{store}/{name}` at start-up fills each of
//! [`FROM_STORE`] that no other layer set; the keys of the secret are the
//! settings' names. A sidecar that is still starting is waited for (up to
//! [`SIDECAR_WAIT`]); a store or secret that is missing stops the start
//! with Dapr's own explanation. `dapr_api_token` itself cannot come from
//! the store: it is what the request to the store is made with.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::config::Config;

/// The settings a secret store may hold.
const FROM_STORE: [&str; 4] = [
    "database_url",
    "smtp_password",
    "dapr_app_token",
    "assistant_api_key",
];

/// How long a sidecar that does not answer yet is waited for.
const SIDECAR_WAIT: Duration = Duration::from_secs(60);

/// The setting `key` of `config`, to be filled.
fn setting<'a>(config: &'a mut Config, key: &str) -> &'a mut String {
    match key {
        "database_url" => &mut config.database_url,
        "smtp_password" => &mut config.smtp_password,
        "dapr_app_token" => &mut config.dapr_app_token,
        "assistant_api_key" => &mut config.assistant_api_key,
        other => unreachable!("{other} is not read from a secret store"),
    }
}

/// Fill the unset secrets of `config` from its Dapr secret store, if any.
pub async fn fill(config: &mut Config) -> anyhow::Result<()> {
    if config.dapr_secret_store.is_empty() {
        return Ok(());
    }
    let secret = read(config).await?;
    for key in FROM_STORE {
        if let Some(value) = secret.get(key)
            && setting(config, key).is_empty()
        {
            // As with secret files: a value kept with its final line break
            // (a Secret made --from-file) is meant without it.
            *setting(config, key) = value.trim_end_matches(['\r', '\n']).to_owned();
        }
    }
    Ok(())
}

/// The secret's keys and values.
async fn read(config: &Config) -> anyhow::Result<BTreeMap<String, String>> {
    let (store, name) = (&config.dapr_secret_store, &config.dapr_secret_name);
    let url = format!(
        "{}/v1.0/secrets/{store}/{name}",
        config.dapr_http_endpoint.trim_end_matches('/')
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let deadline = Instant::now() + SIDECAR_WAIT;
    let mut waited = false;
    let res = loop {
        let mut req = http.get(&url);
        if !config.dapr_api_token.is_empty() {
            req = req.header("dapr-api-token", &config.dapr_api_token);
        }
        match req.send().await {
            Ok(res) => break res,
            Err(e) if Instant::now() < deadline => {
                // Before the configuration is read, logging is not set up.
                if !waited {
                    eprintln!(
                        "waiting for the Dapr sidecar at {} to read secrets ({e})",
                        config.dapr_http_endpoint
                    );
                    waited = true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => bail!(
                "cannot read the secret '{name}' of the Dapr secret store '{store}': the \
                 sidecar at {} did not answer in {} s ({e})",
                config.dapr_http_endpoint,
                SIDECAR_WAIT.as_secs()
            ),
        }
    };
    let status = res.status();
    if status == reqwest::StatusCode::NO_CONTENT {
        return Ok(BTreeMap::new());
    }
    let body = res.text().await.unwrap_or_default();
    if !status.is_success() {
        // Dapr explains itself as {"errorCode": …, "message": …}.
        let why = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or(body);
        bail!(
            "cannot read the secret '{name}' of the Dapr secret store '{store}' \
             (dapr_secret_store, dapr_secret_name): the sidecar answered {status}: {why}"
        );
    }
    serde_json::from_str(&body).map_err(|e| {
        anyhow::anyhow!(
            "the Dapr sidecar's answer for the secret '{name}' is not a map of keys to \
             text: {e}"
        )
    })
}
