//! E-mail address verification: a request sets the address (unverified)
//! and queues a mail carrying a secret, at most one a minute and five a day
//! per user (also for requests racing on two replicas); a live secret for
//! the user's current address verifies it once.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_store::{QueuedEmail, Requested, User, VerificationMail};

use crate::common::prelude::*;
use crate::common::{Db, hours, secs, t0, user};

both!(
    request_and_verify,
    one_mail_a_minute_and_five_a_day,
    racing_requests_pass_the_limit_once,
    clear_email_stops_mail,
);

fn mail(n: u8, sent: DateTime<Utc>) -> VerificationMail {
    VerificationMail {
        id: new_id(IdKind::Verification),
        digest: [n; 32],
        subject: "Confirm your address".into(),
        body: format!("Your link: https://dueflow.example/verify/{n}"),
        expires_at: sent + hours(24),
    }
}

async fn request(
    s: &dyn Store,
    u: &User,
    address: Option<&str>,
    m: &VerificationMail,
    now: DateTime<Utc>,
) -> Requested {
    s.request_verification(&u.id, address, m, now)
        .await
        .expect("request verification")
}

fn queued(r: Requested) -> User {
    match r {
        Requested::Queued(u) => u,
        other => panic!("a mail should be queued, got {other:?}"),
    }
}

async fn request_and_verify(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let anns = Some("ann@example.com");
    let nobody = User {
        id: "usr_nobody".into(),
        ..ann.clone()
    };
    assert_eq!(
        request(s, &nobody, anns, &mail(1, t0()), t0()).await,
        Requested::NoUser
    );
    assert_eq!(
        request(s, &ann, None, &mail(1, t0()), t0()).await,
        Requested::NoAddress
    );

    let m1 = mail(1, t0());
    let set = queued(request(s, &ann, anns, &m1, t0()).await);
    assert_eq!(
        set,
        User {
            email: Some("ann@example.com".into()),
            email_verified: false,
            ..ann.clone()
        }
    );
    assert_eq!(
        s.verified_email(&ann.id).await.expect("email"),
        None,
        "not verified yet"
    );
    assert_eq!(
        s.claim_emails(t0(), 60_000, 10).await.expect("claim"),
        [(
            QueuedEmail {
                event_id: m1.id.clone(),
                user_id: ann.id.clone(),
                to: "ann@example.com".into(),
                subject: m1.subject.clone(),
                body: m1.body.clone(),
            },
            1
        )],
        "the mail waits in the mail queue"
    );

    assert_eq!(
        request(s, &ann, anns, &mail(2, t0()), t0() + secs(5)).await,
        Requested::Unchanged(set.clone()),
        "the address is hers already"
    );
    assert_eq!(
        request(s, &ann, None, &mail(2, t0()), t0() + secs(10)).await,
        Requested::Limited {
            retry_after_secs: 50,
            daily: false
        }
    );
    let m2 = mail(2, t0() + secs(60));
    assert_eq!(
        queued(request(s, &ann, None, &m2, t0() + secs(60)).await),
        set
    );

    let verified = s
        .verify_email(&[1; 32], t0() + secs(90))
        .await
        .expect("verify")
        .expect("a live secret");
    assert_eq!(
        verified,
        User {
            email_verified: true,
            ..set.clone()
        }
    );
    assert_eq!(
        s.verified_email(&ann.id).await.expect("email").as_deref(),
        Some("ann@example.com")
    );
    for (digest, why) in [
        (2, "the user's secrets are used up"),
        (1, "used"),
        (99, "unknown"),
    ] {
        assert_eq!(
            s.verify_email(&[digest; 32], t0() + secs(91))
                .await
                .expect("verify"),
            None,
            "{why}"
        );
    }
    assert_eq!(
        request(s, &ann, None, &mail(3, t0()), t0() + secs(200)).await,
        Requested::Unchanged(verified),
        "verified already"
    );

    // A new address starts unverified; its secret expires.
    let m4 = mail(4, t0() + secs(200));
    let work = queued(request(s, &ann, Some("ann@work.example"), &m4, t0() + secs(200)).await);
    assert_eq!(
        (work.email.as_deref(), work.email_verified),
        (Some("ann@work.example"), false)
    );
    assert_eq!(s.verified_email(&ann.id).await.expect("email"), None);
    assert_eq!(
        s.verify_email(&[4; 32], m4.expires_at)
            .await
            .expect("verify"),
        None,
        "expired"
    );

    // A secret sent to an address that is no longer the user's verifies
    // nothing, and is not used up by trying.
    let m5 = mail(5, t0() + secs(300));
    queued(request(s, &ann, None, &m5, t0() + secs(300)).await);
    let m6 = mail(6, t0() + secs(400));
    let home = queued(request(s, &ann, Some("ann@home.example"), &m6, t0() + secs(400)).await);
    assert_eq!(
        s.verify_email(&[5; 32], t0() + secs(401))
            .await
            .expect("verify"),
        None
    );
    assert_eq!(s.verified_email(&ann.id).await.expect("email"), None);
    let verified = s
        .verify_email(&[6; 32], t0() + secs(402))
        .await
        .expect("verify")
        .expect("a live secret for her address");
    assert_eq!(
        verified,
        User {
            email_verified: true,
            ..home
        }
    );
    assert_eq!(
        s.verified_email(&ann.id).await.expect("email").as_deref(),
        Some("ann@home.example")
    );
}

async fn one_mail_a_minute_and_five_a_day(db: &Db) {
    let s = &*db.store;
    let bob = user(s, "bob").await;
    let at = |n: i64| t0() + secs(n);
    queued(request(s, &bob, Some("bob@example.com"), &mail(0, at(0)), at(0)).await);
    assert_eq!(
        request(s, &bob, None, &mail(1, at(30)), at(30)).await,
        Requested::Limited {
            retry_after_secs: 30,
            daily: false
        }
    );
    for (n, sec) in [(1, 60), (2, 120), (3, 180), (4, 240)] {
        queued(request(s, &bob, None, &mail(n, at(sec)), at(sec)).await);
    }
    assert_eq!(
        request(s, &bob, None, &mail(5, at(300)), at(300)).await,
        Requested::Limited {
            retry_after_secs: 86_400 - 300,
            daily: true
        },
        "five a day"
    );
    // A day after the first, it no longer counts.
    let day = TimeDelta::days(1);
    assert!(matches!(
        request(
            s,
            &bob,
            None,
            &mail(6, t0() + day - secs(1)),
            t0() + day - secs(1)
        )
        .await,
        Requested::Limited { daily: true, .. }
    ));
    queued(request(s, &bob, None, &mail(7, t0() + day), t0() + day).await);

    let mails = s
        .claim_emails(t0() + day * 2, 60_000, 100)
        .await
        .expect("claim");
    assert_eq!(
        mails.len(),
        6,
        "one mail per request queued, none for the limited"
    );
    assert!(
        mails
            .iter()
            .all(|(m, _)| m.to == "bob@example.com" && m.user_id == bob.id)
    );
}

async fn racing_requests_pass_the_limit_once(db: &Db) {
    let ann = user(&*db.store, "ann").await;
    let first = mail(0, t0());
    queued(request(&*db.store, &ann, Some("ann@example.com"), &first, t0()).await);
    let other = db.another_handle().await;
    for round in 1..=4u8 {
        let now = t0() + secs(120 * i64::from(round));
        let ask = |store: Arc<dyn Store>, digest: u8| {
            let (ann, m) = (ann.clone(), mail(digest, now));
            tokio::spawn(async move { request(&*store, &ann, None, &m, now).await })
        };
        let a = ask(db.store.clone(), round * 2);
        let b = ask(other.clone(), round * 2 + 1);
        let answers = [a.await.expect("join"), b.await.expect("join")];
        let sent = answers
            .iter()
            .filter(|r| matches!(r, Requested::Queued(_)))
            .count();
        let limited = answers
            .iter()
            .filter(|r| matches!(r, Requested::Limited { .. }))
            .count();
        assert_eq!(
            (sent, limited),
            (1, 1),
            "round {round}: one request sends, the other is limited: {answers:?}"
        );
    }
    let mails = db
        .store
        .claim_emails(t0() + hours(1), 60_000, 100)
        .await
        .expect("claim");
    assert_eq!(mails.len(), 5);
}

async fn clear_email_stops_mail(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    queued(request(s, &ann, Some("ann@example.com"), &mail(1, t0()), t0()).await);
    s.verify_email(&[1; 32], t0() + secs(1))
        .await
        .expect("verify")
        .expect("a live secret");
    assert!(s.verified_email(&ann.id).await.expect("email").is_some());

    let cleared = s
        .clear_email(&ann.id)
        .await
        .expect("clear")
        .expect("ann exists");
    assert_eq!(cleared, ann, "no address, nothing verified");
    assert_eq!(s.verified_email(&ann.id).await.expect("email"), None);
    assert_eq!(
        request(s, &ann, None, &mail(2, t0()), t0() + secs(120)).await,
        Requested::NoAddress
    );
    assert_eq!(s.clear_email("usr_nobody").await.expect("clear"), None);
}
