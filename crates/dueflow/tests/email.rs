//! Mail through a real SMTP server (aiosmtpd, on loopback, writing a
//! Maildir) from the real binary, on SQLite and on PostgreSQL. An address
//! a user sets is mailed one verification code and nothing else until the
//! code comes back; then the user gets one mail per fired reminder, and
//! while the SMTP server is down the mail waits and goes out once it is
//! back, once. A code verifies only the address it was mailed to, once,
//! for a day; a wrong, used or expired code and a bad address are refused
//! and change nothing; codes are mailed at most once a minute and five
//! times a day. Without an SMTP server, setting an address says so. Over
//! STARTTLS and over TLS from the first byte, the server's certificate is
//! checked: one from a private CA is refused until the operator names that
//! CA.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{
    Proc, free_port, named_user_with_token, serve, user_with_token, wait_for_port,
};
use common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `python3 -m aiosmtpd` on `port`, delivering into the Maildir `dir`.
fn smtp_server(port: u16, dir: &Path) -> Proc {
    smtp_server_with(port, dir, &[])
}

/// The same with more of aiosmtpd's flags (its TLS certificate and key).
fn smtp_server_with(port: u16, dir: &Path, flags: &[&str]) -> Proc {
    let python = std::env::var("DUEFLOW_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let proc = Proc::spawn(
        Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(flags)
            .args([
                "-c",
                "aiosmtpd.handlers.Mailbox",
                &dir.display().to_string(),
            ]),
        &format!("aiosmtpd with {python} (scripts/test installs it)"),
    );
    wait_for_port(port, "aiosmtpd");
    proc
}

/// When a Maildir file was delivered: its name begins `SECONDS.MMICROS…`.
fn delivered(path: &Path) -> (u64, u64) {
    let name = path.file_name().unwrap().to_string_lossy();
    let mut parts = name.split('.');
    let secs = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let micros = parts
        .next()
        .and_then(|m| m.strip_prefix('M'))
        .map(|m| {
            m.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    (secs, micros)
}

/// The mails delivered so far, as text, in the order they arrived.
fn mails(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("new")) else {
        return Vec::new();
    };
    let mut out: Vec<((u64, u64), String)> = entries
        .map(|e| {
            let p = e.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            (delivered(&p), text)
        })
        .collect();
    out.sort();
    out.into_iter().map(|(_, t)| t).collect()
}

async fn wait_for_mails(dir: &Path, n: usize, secs: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = mails(dir);
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} mails after {secs} s",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const VERIFICATION: &str = "Subject: Confirm your e-mail address for dueflow";

/// The delivered mails whose text holds `what`.
fn mails_with(dir: &Path, what: &str) -> Vec<String> {
    mails(dir)
        .into_iter()
        .filter(|m| m.contains(what))
        .collect()
}

/// The verification code a mail carries.
fn code_in(mail: &str) -> String {
    let at = mail
        .find("dfv_")
        .unwrap_or_else(|| panic!("no code in {mail}"));
    let code: String = mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect();
    assert_eq!(code.len(), 4 + 43, "{mail}");
    code
}

/// Where a test's server keeps its data, to age what it stored.
enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    async fn execute(&self, sql: &str) {
        match self {
            Db::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                c.busy_timeout(Duration::from_secs(5)).unwrap();
                c.execute_batch(sql).unwrap();
            }
            Db::Postgres(url) => {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        }
    }

    /// The number `sql` counts.
    async fn count(&self, sql: &str) -> i64 {
        match self {
            Db::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
            Db::Postgres(url) => {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            }
        }
    }

    /// As if every verification mail had gone out `secs` earlier.
    async fn age_verifications(&self, secs: i64) {
        self.execute(&format!(
            "UPDATE email_verifications SET created_at = created_at - {ms}, \
             expires_at = expires_at - {ms}",
            ms = secs * 1000
        ))
        .await;
    }
}

/// The environment of one process on `backend` in `dir` mailing through
/// the SMTP server on `smtp_port`, and its database.
async fn mailing_env(
    backend: Backend,
    dir: &Path,
    smtp_port: u16,
) -> (Vec<(&'static str, String)>, Db) {
    let data = dir.join("data");
    let mut env = vec![
        ("DUEFLOW_DATA_DIR", data.display().to_string()),
        ("DUEFLOW_SMTP_HOST", "127.0.0.1".to_owned()),
        ("DUEFLOW_SMTP_PORT", smtp_port.to_string()),
        ("DUEFLOW_SMTP_TLS", "none".to_owned()),
        (
            "DUEFLOW_SMTP_FROM",
            "dueflow <reminders@dueflow.test>".to_owned(),
        ),
    ];
    let db = match backend {
        Backend::Sqlite => Db::Sqlite(data.join("dueflow.db")),
        Backend::Postgres => {
            let url = common::fresh_pg_database().await;
            env.push(("DUEFLOW_DATABASE_URL", url.clone()));
            Db::Postgres(url)
        }
    };
    (env, db)
}

/// One user's view of the API.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(port: u16, token: String) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
            token,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        common::send(r).await
    }

    async fn set_email(&self, email: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, "/me", Some(json!({ "email": email })))
            .await
    }

    async fn me(&self) -> Value {
        let (status, me) = self.call(Method::GET, "/me", None).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        me
    }

    /// `POST /auth/verify-email`, without the user's token.
    async fn verify(&self, code: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/auth/verify-email", self.base))
            .json(&json!({ "token": code }))
            .send()
            .await
            .unwrap()
    }

    async fn resend(&self) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/me/email/verification", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// A task whose reminder fires in `ms`.
    async fn remind(&self, title: &str, ms: i64) {
        let at = chrono::Utc::now() + chrono::Duration::milliseconds(ms);
        let (status, task) = self
            .call(
                Method::POST,
                "/tasks",
                Some(json!({"title": title, "reminders": [{"at": at.to_rfc3339()}]})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
    }

    /// Wait until `n` reminders have fired (their in-app notifications).
    async fn fired(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, list) = self.call(Method::GET, "/notifications", None).await;
            let got = list["items"].as_array().map_or(0, Vec::len);
            if got >= n {
                return;
            }
            assert!(Instant::now() < deadline, "{got} of {n} reminders fired");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Set `address` and verify it with the code mailed to it, the
    /// `mailed`-th verification mail in `maildir`.
    async fn verified_address(&self, address: &str, maildir: &Path, mailed: usize) {
        let (status, me) = self.set_email(json!(address)).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mail = loop {
            let got = mails_with(maildir, VERIFICATION);
            if got.len() >= mailed {
                break got[mailed - 1].clone();
            }
            assert!(Instant::now() < deadline, "no verification mail");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(mail.contains(&format!("To: {address}")), "{mail}");
        assert_eq!(self.verify(&code_in(&mail)).await.status(), 200);
    }
}

/// A refused code: 400 problem+json naming `token` and the way on.
async fn assert_refused(res: reqwest::Response) {
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["field"], "token", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("POST /api/v1/me/email/verification"),
        "{problem}"
    );
}

/// Run `scenario(backend)` against real processes on SQLite and on
/// PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::common::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    reminders_are_mailed_only_to_a_verified_address,
    a_code_verifies_only_the_address_it_was_mailed_to,
    codes_expire_and_are_mailed_at_most_once_a_minute_and_five_times_a_day,
    reminders_are_mailed_once_and_survive_an_smtp_outage,
);

async fn reminders_are_mailed_only_to_a_verified_address(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("maildir");
    let smtp_port = free_port();
    let _smtp = smtp_server(smtp_port, &maildir);
    let (env, db) = mailing_env(backend, tmp.path(), smtp_port).await;
    let ann = user_with_token(&env);
    let port = free_port();
    let _server = serve(&env, port, &[]);
    let ann = Api::new(port, ann);

    // A new address: unverified, mailed one code and nothing else.
    let (status, me) = ann.set_email(json!("ann@example.com")).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["email_verified"], false);
    ann.remind("Call mum", 300).await;
    ann.fired(1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = mails(&maildir);
    assert_eq!(got.len(), 1, "only the verification mail: {got:?}");
    let mail = &got[0];
    assert!(mail.contains(VERIFICATION), "{mail}");
    assert!(mail.contains("To: ann@example.com"), "{mail}");
    let code = code_in(mail);
    // Once mailed, the code is kept nowhere but as its digest.
    let kept = format!(
        "SELECT COUNT(*) FROM emails WHERE body LIKE '%{code}%' OR subject LIKE '%{code}%'"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while db.count(&kept).await > 0 {
        assert!(Instant::now() < deadline, "the mail queue keeps the code");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A wrong code changes nothing.
    assert_refused(ann.verify("dfv_not-the-code").await).await;
    assert_refused(ann.verify(&format!("{}x", &code)).await).await;
    assert_eq!(ann.me().await["email_verified"], false);

    // The right one verifies, once.
    let res = ann.verify(&code).await;
    assert_eq!(res.status(), 200);
    let verified: Value = res.json().await.unwrap();
    assert_eq!(
        verified,
        json!({"email": "ann@example.com", "email_verified": true})
    );
    assert_eq!(ann.me().await["email_verified"], true);
    assert_refused(ann.verify(&code).await).await;
    assert_eq!(ann.me().await["email_verified"], true);

    // Verified, reminders are mailed.
    ann.remind("Water the plants", 300).await;
    let got = wait_for_mails(&maildir, 2, 10).await;
    assert!(
        got[1].contains("Subject: Reminder: Water the plants")
            && got[1].contains("To: ann@example.com"),
        "{got:?}"
    );

    // With the mail channel turned off, a reminder still notifies in the
    // app but mails nothing.
    let off = json!({"in_app": true, "email": false, "webhook": true});
    let (status, v) = ann
        .call(Method::PUT, "/me/reminder-channels", Some(off))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    ann.remind("Feed the cat", 300).await;
    ann.fired(3).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        mails(&maildir).len(),
        2,
        "no mail for a reminder with mail off"
    );

    // The same address again changes nothing and mails nothing.
    let (status, me) = ann.set_email(json!("ann@example.com")).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["email_verified"], true);

    // Too soon after the last code for a new address: refused, unchanged.
    let (status, problem) = ann.set_email(json!("ann@work.example")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
    let me = ann.me().await;
    assert_eq!(
        (&me["email"], &me["email_verified"]),
        (&json!("ann@example.com"), &json!(true))
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&maildir).len(), 2, "nothing more was mailed");
}

async fn a_code_verifies_only_the_address_it_was_mailed_to(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("maildir");
    let smtp_port = free_port();
    let _smtp = smtp_server(smtp_port, &maildir);
    let (env, db) = mailing_env(backend, tmp.path(), smtp_port).await;
    let ann = user_with_token(&env);
    let bob = named_user_with_token(&env, "bob");
    let port = free_port();
    let _server = serve(&env, port, &[]);
    let (ann, bob) = (Api::new(port, ann), Api::new(port, bob));

    assert_eq!(ann.set_email(json!("ann@example.com")).await.0, 200);
    assert_eq!(bob.set_email(json!("bob@example.com")).await.0, 200);
    let got = wait_for_mails(&maildir, 2, 10).await;
    let code_for = |to: &str| {
        code_in(
            got.iter()
                .find(|m| m.contains(&format!("To: {to}")))
                .unwrap_or_else(|| panic!("no mail to {to}: {got:?}")),
        )
    };
    let (ann_code, bob_code) = (code_for("ann@example.com"), code_for("bob@example.com"));

    // Bob's code, whoever sends it, verifies Bob's address, not Ann's.
    let res = ann.verify(&bob_code).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["email"],
        "bob@example.com"
    );
    assert_eq!(ann.me().await["email_verified"], false);
    assert_eq!(bob.me().await["email_verified"], true);

    // A new address starts unverified, and Ann's code, mailed to the old
    // one, does not verify it.
    db.age_verifications(61).await;
    let (status, me) = ann.set_email(json!("ann@work.example")).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (&me["email"], &me["email_verified"]),
        (&json!("ann@work.example"), &json!(false))
    );
    let got = wait_for_mails(&maildir, 3, 10).await;
    let work = got
        .iter()
        .find(|m| m.contains("To: ann@work.example"))
        .unwrap_or_else(|| panic!("no mail to the new address: {got:?}"));
    assert_refused(ann.verify(&ann_code).await).await;
    assert_eq!(ann.me().await["email_verified"], false);

    // Verifying and then changing the address makes it unverified again;
    // null removes it.
    assert_eq!(ann.verify(&code_in(work)).await.status(), 200);
    assert_eq!(ann.me().await["email_verified"], true);
    db.age_verifications(61).await;
    let (_, me) = ann.set_email(json!("ann@home.example")).await;
    assert_eq!(
        (&me["email"], &me["email_verified"]),
        (&json!("ann@home.example"), &json!(false))
    );
    ann.remind("Unverified again", 300).await;
    ann.fired(1).await;
    let (status, me) = ann.set_email(Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (&me["email"], &me["email_verified"]),
        (&Value::Null, &json!(false))
    );
    wait_for_mails(&maildir, 4, 10).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = mails(&maildir);
    assert_eq!(
        got.len(),
        4,
        "four verification mails, no reminder: {got:?}"
    );
    assert!(got.iter().all(|m| m.contains(VERIFICATION)), "{got:?}");
}

async fn codes_expire_and_are_mailed_at_most_once_a_minute_and_five_times_a_day(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("maildir");
    let smtp_port = free_port();
    let _smtp = smtp_server(smtp_port, &maildir);
    let (env, db) = mailing_env(backend, tmp.path(), smtp_port).await;
    let ann = user_with_token(&env);
    let port = free_port();
    let _server = serve(&env, port, &[]);
    let ann = Api::new(port, ann);

    // Without an address there is nothing to send.
    let res = ann.resend().await;
    assert_eq!(res.status(), 409);
    assert_eq!(ann.set_email(json!("ann@example.com")).await.0, 200);
    let first = code_in(&wait_for_mails(&maildir, 1, 10).await[0]);

    // Within a minute of the last mail: 429, with when to try again.
    let res = ann.resend().await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );

    // A code past its day verifies nothing.
    db.age_verifications(24 * 3600).await;
    assert_refused(ann.verify(&first).await).await;
    assert_eq!(ann.me().await["email_verified"], false);

    // A day later, five mails may go, a minute apart (the expired one no
    // longer counts); a sixth is refused until a day after the first of
    // them, and so is a new address.
    for n in 2..=6 {
        let res = ann.resend().await;
        assert_eq!(res.status(), 202);
        let sent: Value = res.json().await.unwrap();
        assert_eq!(sent["email"], "ann@example.com");
        wait_for_mails(&maildir, n, 10).await;
        db.age_verifications(61).await;
    }
    let res = ann.resend().await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 23 * 3600 - 6 * 61, "Retry-After {wait}");
    let (status, problem) = ann.set_email(json!("ann@work.example")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
    assert_eq!(ann.me().await["email"], "ann@example.com");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = mails(&maildir);
    assert_eq!(got.len(), 6, "{got:?}");

    // Any live code verifies; once verified, there is nothing to resend.
    assert_eq!(ann.verify(&code_in(&got[3])).await.status(), 200);
    assert_eq!(ann.me().await["email_verified"], true);
    assert_refused(ann.verify(&code_in(&got[4])).await).await;
    assert_eq!(ann.resend().await.status(), 409);
}

async fn reminders_are_mailed_once_and_survive_an_smtp_outage(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("maildir");
    let smtp_port = free_port();
    let mut smtp = smtp_server(smtp_port, &maildir);
    let (env, _db) = mailing_env(backend, tmp.path(), smtp_port).await;
    let token = user_with_token(&env);
    let port = free_port();
    let _server = serve(&env, port, &[]);
    let ann = Api::new(port, token);
    let (status, problem) = ann.set_email(json!("ann at example")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "email");
    assert_eq!(ann.me().await["email"], Value::Null);
    ann.verified_address("ann@example.com", &maildir, 1).await;

    ann.remind("Call mum", 800).await;
    let got = wait_for_mails(&maildir, 2, 10).await;
    let mail = &got[1];
    assert!(mail.contains("To: ann@example.com"), "{mail}");
    assert!(mail.contains("Subject: Reminder: Call mum"), "{mail}");
    assert!(
        mail.contains("@dueflow>"),
        "the Message-ID names the event: {mail}"
    );

    // The SMTP server goes away while a reminder fires; the mail waits.
    smtp.kill();
    ann.remind("Water the plants", 800).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _smtp = smtp_server(smtp_port, &maildir);
    let got = wait_for_mails(&maildir, 3, 20).await;
    assert!(
        got.iter()
            .any(|m| m.contains("Subject: Reminder: Water the plants"))
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&maildir).len(), 3, "each reminder mailed once");

    // Clearing the address stops the mails.
    let (_, me) = ann.set_email(Value::Null).await;
    assert_eq!(me["email"], Value::Null);
    ann.remind("Quiet", 800).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(mails(&maildir).len(), 3, "no address, no mail");
}

both_backends!(without_a_mail_server_an_address_is_refused_saying_so);

async fn without_a_mail_server_an_address_is_refused_saying_so(s: &TestServer) {
    let ann = s.user("ann").await;
    let (status, problem) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"email": "ann@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no SMTP server"),
        "{problem}"
    );
    let (_, me) = s.call(&ann, Method::GET, "/api/v1/me", None).await;
    assert_eq!(me["email"], Value::Null);
    let (status, _) = s
        .call(&ann, Method::POST, "/api/v1/me/email/verification", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Removing an address needs no mail.
    let (status, me) = s
        .call(
            &ann,
            Method::PATCH,
            "/api/v1/me",
            Some(json!({"email": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
}

/// A self-signed certificate for `localhost` (and its key), made by openssl.
fn certificate(dir: &Path) -> (String, String) {
    let (cert, key) = (dir.join("smtp.crt"), dir.join("smtp.key"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run openssl to make a test certificate: {e}"));
    assert!(made.success(), "openssl could not make a test certificate");
    (cert.display().to_string(), key.display().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mails_go_over_starttls_and_tls_to_a_checked_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("maildir");
    let (cert, key) = certificate(tmp.path());
    // aiosmtpd refuses mail before STARTTLS here (its require_starttls).
    let starttls_port = free_port();
    let _starttls = smtp_server_with(
        starttls_port,
        &maildir,
        &["--tlscert", &cert, "--tlskey", &key],
    );
    let env = |tls: &str, port: u16, ca: Option<&str>| {
        let mut env = vec![
            (
                "DUEFLOW_DATA_DIR",
                tmp.path().join("data").display().to_string(),
            ),
            ("DUEFLOW_SMTP_HOST", "localhost".to_owned()),
            ("DUEFLOW_SMTP_PORT", port.to_string()),
            ("DUEFLOW_SMTP_TLS", tls.to_owned()),
            (
                "DUEFLOW_SMTP_FROM",
                "dueflow <reminders@dueflow.test>".to_owned(),
            ),
        ];
        if let Some(ca) = ca {
            env.push(("DUEFLOW_SMTP_CA_FILE", ca.to_owned()));
        }
        env
    };
    let token = user_with_token(&env("none", starttls_port, None));
    let port = free_port();
    let ann = Api::new(port, token);

    // Without the CA, the certificate is not trusted: nothing is sent, and
    // the verification mail waits.
    let mut app = serve(&env("starttls", starttls_port, None), port, &[]);
    let (status, me) = ann.set_email(json!("ann@example.com")).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(mails(&maildir).is_empty(), "sent to an unchecked server");
    app.kill();

    // With it, STARTTLS: the waiting mail goes out, and once its code is
    // back, a reminder.
    let mut app = serve(&env("starttls", starttls_port, Some(&cert)), port, &[]);
    let got = wait_for_mails(&maildir, 1, 20).await;
    assert!(got[0].contains(VERIFICATION), "{got:?}");
    assert_eq!(ann.verify(&code_in(&got[0])).await.status(), 200);
    ann.remind("Over STARTTLS", 500).await;
    let got = wait_for_mails(&maildir, 2, 20).await;
    assert!(
        got[1].contains("Subject: Reminder: Over STARTTLS"),
        "{got:?}"
    );
    app.kill();

    // TLS from the first byte (SMTPS).
    let smtps_port = free_port();
    let _smtps = smtp_server_with(
        smtps_port,
        &maildir,
        &["--smtpscert", &cert, "--smtpskey", &key],
    );
    let _app = serve(&env("tls", smtps_port, Some(&cert)), port, &[]);
    ann.remind("Over TLS", 500).await;
    let got = wait_for_mails(&maildir, 3, 10).await;
    assert!(
        got.iter()
            .any(|m| m.contains("Subject: Reminder: Over TLS")),
        "{got:?}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&maildir).len(), 3, "each reminder mailed once");
}
