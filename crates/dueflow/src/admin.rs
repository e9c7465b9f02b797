//! Administrative commands that work on the database directly: `migrate`,
//! `user add`, `token create`. They share the server's configuration.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, anyhow, bail};
use dueflow_app::{App, AppError};

use crate::cli::{ServerArgs, TokenCmd, UserCmd};
use crate::config::Config;
use crate::server::init_logging;

/// Whether a command may create the database it is pointed at.
#[derive(PartialEq)]
enum Database {
    Create,
    Existing,
}

/// The application over the configured database, migrated.
async fn app(args: &ServerArgs, database: Database) -> anyhow::Result<App> {
    let config = Config::load(args).await?;
    init_logging(&format!("warn,{}", config.log), &config.log_format);
    config.warn_of_unread_variables();
    if database == Database::Existing {
        config.require_existing_database()?;
    }
    let store = config.open_store().await?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(App::new(store, config.app()?))
}

fn said(e: AppError) -> anyhow::Error {
    anyhow!(e.detail())
}

pub async fn migrate(args: ServerArgs) -> anyhow::Result<()> {
    app(&args, Database::Create).await?;
    println!("database is up to date");
    Ok(())
}

pub async fn user(cmd: UserCmd) -> anyhow::Result<()> {
    let UserCmd::Add {
        name,
        password_stdin,
        tz,
        date_order,
        server,
    } = cmd;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!(
                "there is no terminal to ask for {name}'s password on; \
                 pipe it in instead: echo \"$PASSWORD\" | dueflow user add {name} --password-stdin"
            );
        }
        let p = rpassword::prompt_password(format!("password for {name}: "))?;
        if rpassword::prompt_password("again: ")? != p {
            bail!("the passwords differ");
        }
        p
    };
    let app = app(&server, Database::Existing).await?;
    let user = app
        .create_user(&name, password, tz.as_deref(), date_order.as_deref())
        .await
        .map_err(said)?;
    println!("created user {} ({})", user.name, user.id);
    Ok(())
}

pub async fn token(cmd: TokenCmd) -> anyhow::Result<()> {
    let TokenCmd::Create {
        user,
        label,
        server,
    } = cmd;
    let app = app(&server, Database::Existing).await?;
    let found = app.user_by_name(&user).await.map_err(|e| match e {
        AppError::NotFound => anyhow!("no user named '{}'", user.trim().to_lowercase()),
        other => said(other),
    })?;
    let (record, token) = app.issue_token(&found.id, &label).await.map_err(said)?;
    println!("created token {} for {}", record.id, found.name);
    println!("{token}");
    Ok(())
}
