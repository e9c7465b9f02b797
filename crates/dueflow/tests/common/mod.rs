//! Test harness: a real dueflow server on port 0 over a throwaway real
//! database — a fresh SQLite file, or a fresh PostgreSQL database created
//! for the test (PostgreSQL must be reachable: the test fails, never skips).
//! `both_backends!` runs one scenario against each.

#![allow(dead_code)]

pub mod dapr;
pub mod hooks;
pub mod kafka;
pub mod live;
pub mod llm;
pub mod otlp;
pub mod process;
pub mod reminder_load;

#[path = "../../../store/tests/pg/mod.rs"]
mod pg;
pub use pg::fresh_pg_database;

use std::net::SocketAddr;
use std::sync::Arc;

use dueflow_api::{ApiConfig, AppState};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    _dir: Option<tempfile::TempDir>,
}

pub struct Session {
    pub name: String,
    pub token: String,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, ApiConfig::default()).await
    }

    pub async fn start_with(backend: Backend, config: ApiConfig) -> TestServer {
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                (
                    format!("sqlite:{}", dir.path().join("t.db").display()),
                    Some(dir),
                )
            }
            Backend::Postgres => (fresh_pg_database().await, None),
        };
        let store = dueflow_store::connect(&url).await.expect("open store");
        store.migrate().await.expect("migrate");
        let allow_private = config.app.webhooks_allow_private;
        let state = AppState::new(store.clone(), config);
        let live = Arc::new(dueflow_api::stream::hub::HubFeed::new(
            state.hub.clone(),
            state.store.clone(),
        ));
        let notifier = dueflow_workers::NotifierConfig {
            allow_private_webhooks: allow_private,
            smtp: None,
        };
        dueflow_workers::spawn_embedded(
            store,
            live,
            &notifier,
            state.bus.clone(),
            tokio_util::sync::CancellationToken::new(),
        )
        .expect("start the roles");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let serving = state.clone();
        tokio::spawn(async move {
            dueflow_api::serve(
                listener,
                serving,
                dueflow_web::pages(),
                std::future::pending(),
            )
            .await
            .expect("serve");
        });
        TestServer {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            state,
            _dir: dir,
        }
    }

    /// A new user with an API token.
    pub async fn user(&self, name: &str) -> Session {
        let user = self
            .state
            .app
            .create_user(name, "correct horse".into(), None, None)
            .await
            .expect("create user");
        let (_, token) = self
            .state
            .app
            .issue_token(&user.id, "test")
            .await
            .expect("token");
        Session {
            name: user.name,
            token,
        }
    }

    pub fn req(&self, s: &Session, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&s.token)
    }

    /// Send and return status and JSON body (Null when empty).
    pub async fn call(
        &self,
        s: &Session,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.req(s, method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        send(r).await
    }

    pub async fn create(&self, s: &Session, body: Value) -> Value {
        let (st, v) = self
            .call(s, Method::POST, "/api/v1/tasks", Some(body))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v
    }

    /// Titles of every task matching `q` with `sort`, following cursors.
    pub async fn titles(&self, s: &Session, q: &str, sort: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("q", q.to_owned()), ("limit", "3".to_owned())];
            if !sort.is_empty() {
                query.push(("sort", sort.to_owned()));
            }
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let (st, v) = send(self.req(s, Method::GET, "/api/v1/tasks").query(&query)).await;
            assert_eq!(st, StatusCode::OK, "q={q} sort={sort}: {v}");
            for t in v["items"].as_array().expect("items") {
                out.push(t["title"].as_str().expect("title").to_owned());
            }
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }
}

pub async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = r.send().await.expect("request");
    let st = res.status();
    let text = res.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (st, v)
}

pub fn store_of(s: &TestServer) -> Arc<dyn dueflow_store::Store> {
    s.state.store.clone()
}

/// Run `scenario(server)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let s = $crate::common::TestServer::start($crate::common::Backend::Sqlite).await;
                    super::$name(&s).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let s = $crate::common::TestServer::start($crate::common::Backend::Postgres).await;
                    super::$name(&s).await;
                }
            )*
        }
    };
}
