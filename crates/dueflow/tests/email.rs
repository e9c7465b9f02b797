//! Reminder mails through a real SMTP server (aiosmtpd, on loopback, writing
//! a Maildir) from the real binary: a user who gave an address gets one
//! mail per fired reminder; while the SMTP server is down the mail waits
//! and goes out once it is back, once. A bad address is refused and
//! changes nothing. Over STARTTLS and over TLS from the first byte, the
//! server's certificate is checked: one from a private CA is refused until
//! the operator names that CA.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{Proc, free_port, serve, user_with_token, wait_for_port};
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

/// The mails delivered so far, as text.
fn mails(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("new")) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, String)> = entries
        .map(|e| {
            let p = e.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_are_mailed_once_and_survive_an_smtp_outage() {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("maildir");
    let smtp_port = free_port();
    let mut smtp = smtp_server(smtp_port, &maildir);
    let env = [
        (
            "DUEFLOW_DATA_DIR",
            tmp.path().join("data").display().to_string(),
        ),
        ("DUEFLOW_SMTP_HOST", "127.0.0.1".to_owned()),
        ("DUEFLOW_SMTP_PORT", smtp_port.to_string()),
        ("DUEFLOW_SMTP_TLS", "none".to_owned()),
        (
            "DUEFLOW_SMTP_FROM",
            "dueflow <reminders@dueflow.test>".to_owned(),
        ),
    ];
    let token = user_with_token(&env);
    let port = free_port();
    let _server = serve(&env, port, &[]);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let patch_me = |body: Value| {
        http.patch(format!("{base}/api/v1/me"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let res = patch_me(json!({"email": "ann at example"})).await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "email");
    let res = patch_me(json!({"email": "ann@example.com"})).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["email"],
        "ann@example.com"
    );

    let remind = |title: &str| {
        let at = chrono::Utc::now() + chrono::Duration::milliseconds(800);
        http.post(format!("{base}/api/v1/tasks"))
            .bearer_auth(&token)
            .json(&json!({"title": title, "reminders": [{"at": at.to_rfc3339()}]}))
            .send()
    };
    assert_eq!(remind("Call mum").await.unwrap().status(), 201);
    let got = wait_for_mails(&maildir, 1, 10).await;
    let mail = &got[0];
    assert!(mail.contains("To: ann@example.com"), "{mail}");
    assert!(mail.contains("Subject: Reminder: Call mum"), "{mail}");
    assert!(
        mail.contains("@dueflow>"),
        "the Message-ID names the event: {mail}"
    );

    // The SMTP server goes away while a reminder fires; the mail waits.
    smtp.kill();
    assert_eq!(remind("Water the plants").await.unwrap().status(), 201);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _smtp = smtp_server(smtp_port, &maildir);
    let got = wait_for_mails(&maildir, 2, 20).await;
    assert!(
        got.iter()
            .any(|m| m.contains("Subject: Reminder: Water the plants"))
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&maildir).len(), 2, "each reminder mailed once");

    // Clearing the address stops the mails.
    let res = patch_me(json!({"email": null})).await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["email"], Value::Null);
    assert_eq!(remind("Quiet").await.unwrap().status(), 201);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(mails(&maildir).len(), 2, "no address, no mail");
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
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let remind = |title: &str| {
        let at = chrono::Utc::now() + chrono::Duration::milliseconds(500);
        http.post(format!("{base}/api/v1/tasks"))
            .bearer_auth(&token)
            .json(&json!({"title": title, "reminders": [{"at": at.to_rfc3339()}]}))
            .send()
    };

    // Without the CA, the certificate is not trusted: nothing is sent.
    let mut app = serve(&env("starttls", starttls_port, None), port, &[]);
    let res = http
        .patch(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .json(&json!({"email": "ann@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(remind("Untrusted").await.unwrap().status(), 201);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(mails(&maildir).is_empty(), "sent to an unchecked server");
    app.kill();

    // With it, STARTTLS: the waiting mail and a new one go out.
    let mut app = serve(&env("starttls", starttls_port, Some(&cert)), port, &[]);
    assert_eq!(remind("Over STARTTLS").await.unwrap().status(), 201);
    let got = wait_for_mails(&maildir, 2, 20).await;
    for subject in ["Untrusted", "Over STARTTLS"] {
        assert!(
            got.iter()
                .any(|m| m.contains(&format!("Subject: Reminder: {subject}"))),
            "{got:?}"
        );
    }
    app.kill();

    // TLS from the first byte (SMTPS).
    let smtps_port = free_port();
    let _smtps = smtp_server_with(
        smtps_port,
        &maildir,
        &["--smtpscert", &cert, "--smtpskey", &key],
    );
    let _app = serve(&env("tls", smtps_port, Some(&cert)), port, &[]);
    assert_eq!(remind("Over TLS").await.unwrap().status(), 201);
    let got = wait_for_mails(&maildir, 3, 10).await;
    assert!(
        got.iter()
            .any(|m| m.contains("Subject: Reminder: Over TLS")),
        "{got:?}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&maildir).len(), 3, "each reminder mailed once");
}
