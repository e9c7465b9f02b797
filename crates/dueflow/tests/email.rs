//! Reminder mails through a real SMTP server (aiosmtpd, on loopback, writing
//! a Maildir) from the real binary: a user who gave an address gets one
//! mail per fired reminder; while the SMTP server is down the mail waits
//! and goes out once it is back, once. A bad address is refused and
//! changes nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{Proc, free_port, serve, user_with_token, wait_for_port};
use serde_json::{Value, json};

/// `python3 -m aiosmtpd` on `port`, delivering into the Maildir `dir`.
fn smtp_server(port: u16, dir: &Path) -> Proc {
    let python = std::env::var("DUEFLOW_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let child = Command::new(&python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args([
            "-c",
            "aiosmtpd.handlers.Mailbox",
            &dir.display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start aiosmtpd with {python} (run scripts/test, which installs it): {e}")
        });
    let proc = Proc(child);
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
