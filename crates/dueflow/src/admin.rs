//! Administrative commands that work on the database directly: `migrate`,
//! `user add`, `token create`. They share the server's configuration.

use std::io::BufRead;

use anyhow::{Context, anyhow, bail};
use dueflow_api::{ApiConfig, AppState};

use crate::cli::{ServerArgs, TokenCmd, UserCmd};
use crate::config::Config;
use crate::server::init_logging;

async fn state(args: &ServerArgs) -> anyhow::Result<AppState> {
    let config = Config::load(args)?;
    init_logging(&format!("warn,{}", config.log));
    let store = config.open_store().await?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(AppState::new(store, ApiConfig::default()))
}

fn api(e: dueflow_api::problem::ApiError) -> anyhow::Error {
    use dueflow_api::problem::ApiError as E;
    match e {
        E::Invalid { detail, .. } | E::Conflict(detail) | E::Internal(detail) => anyhow!(detail),
        other => anyhow!("{other:?}"),
    }
}

pub async fn migrate(args: ServerArgs) -> anyhow::Result<()> {
    state(&args).await?;
    println!("database is up to date");
    Ok(())
}

pub async fn user(cmd: UserCmd) -> anyhow::Result<()> {
    let UserCmd::Add {
        name,
        password_stdin,
        tz,
        server,
    } = cmd;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let p = rpassword::prompt_password(format!("password for {name}: "))?;
        if rpassword::prompt_password("again: ")? != p {
            bail!("the passwords differ");
        }
        p
    };
    let state = state(&server).await?;
    let user = dueflow_api::routes::account::create_user(&state, &name, password, tz.as_deref())
        .await
        .map_err(api)?;
    println!("created user {} ({})", user.name, user.id);
    Ok(())
}

pub async fn token(cmd: TokenCmd) -> anyhow::Result<()> {
    let TokenCmd::Create {
        user,
        label,
        server,
    } = cmd;
    let state = state(&server).await?;
    let name = user.trim().to_lowercase();
    let (found, _) = state
        .store
        .user_credentials(&name)
        .await?
        .ok_or_else(|| anyhow!("no user named '{name}'"))?;
    let (record, token) = dueflow_api::routes::issue_token(&state, &found.id, &label)
        .await
        .map_err(api)?;
    println!("created token {} for {}", record.id, found.name);
    println!("{token}");
    Ok(())
}
