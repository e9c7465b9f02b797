//! Webhook endpoints and their deliveries: endpoints scoped to their owner,
//! secret rotation with an overlap, deliveries queued once per endpoint and
//! event, leased to one sender at a time, finished, redelivered, and
//! ended without sending once their endpoint is disabled.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_store::{Delivery, DeliveryJob, DeliveryState, NewDelivery, Outcome, User, Webhook};
use serde_json::json;

use crate::common::prelude::*;
use crate::common::{Db, hours, ms, secs, t0, user};

both!(
    endpoints_are_scoped_to_their_owner,
    deliveries_are_leased_finished_and_redelivered,
    two_notifiers_never_share_a_delivery,
);

fn webhook(owner: &User, created_at: DateTime<Utc>) -> Webhook {
    Webhook {
        id: new_id(IdKind::Webhook),
        user_id: owner.id.clone(),
        url: format!("https://hooks.example.com/{}", owner.name),
        events: vec!["reminder.due".into(), "task.completed".into()],
        secret: format!("whsec_{}", new_id(IdKind::Event)),
        enabled: true,
        disabled_reason: None,
        created_at,
    }
}

fn delivery(w: &Webhook, event_id: &str) -> NewDelivery {
    NewDelivery {
        webhook_id: w.id.clone(),
        user_id: w.user_id.clone(),
        event_id: event_id.to_owned(),
        event_type: "reminder.due",
        payload: json!({"type": "reminder.due", "event": event_id}).to_string(),
    }
}

async fn endpoints_are_scoped_to_their_owner(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let w1 = webhook(&ann, t0());
    let w2 = Webhook {
        enabled: false,
        disabled_reason: Some("the receiver answered 410".into()),
        events: vec!["task.completed".into()],
        ..webhook(&ann, t0() + secs(1))
    };
    let w3 = webhook(&bob, t0() + secs(2));
    for w in [&w2, &w3, &w1] {
        s.insert_webhook(w).await.expect("insert webhook");
    }

    let list = |ids: Vec<String>| async move {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        s.list_webhooks(&ids).await.expect("list webhooks")
    };
    assert_eq!(
        list(vec![ann.id.clone()]).await,
        [w1.clone(), w2.clone()],
        "ann's endpoints, oldest first, as stored"
    );
    assert_eq!(
        list(vec![bob.id.clone(), ann.id.clone()]).await,
        [w1.clone(), w2.clone(), w3.clone()]
    );
    assert!(list(vec![]).await.is_empty());
    assert!(list(vec!["usr_nobody".into()]).await.is_empty());

    assert!(
        !s.rotate_webhook_secret(&bob.id, &w1.id, "whsec_bob", t0() + hours(1))
            .await
            .expect("rotate"),
        "bob has no such endpoint"
    );
    assert!(
        s.rotate_webhook_secret(&ann.id, &w1.id, "whsec_next", t0() + hours(1))
            .await
            .expect("rotate")
    );
    assert!(
        !s.rotate_webhook_secret(&ann.id, "whk_nope", "whsec_x", t0())
            .await
            .expect("rotate")
    );
    let rotated = Webhook {
        secret: "whsec_next".into(),
        ..w1.clone()
    };
    assert_eq!(
        list(vec![ann.id.clone()]).await,
        [rotated.clone(), w2.clone()]
    );

    assert!(
        !s.delete_webhook(&bob.id, &w2.id).await.expect("delete"),
        "not bob's"
    );
    assert!(s.delete_webhook(&ann.id, &w2.id).await.expect("delete"));
    assert!(
        !s.delete_webhook(&ann.id, &w2.id).await.expect("delete"),
        "gone already"
    );
    assert_eq!(
        list(vec![ann.id.clone(), bob.id.clone()]).await,
        [rotated, w3]
    );
}

async fn log(s: &dyn Store, u: &User, w: &Webhook) -> Vec<Delivery> {
    s.list_deliveries(&u.id, &w.id, 50)
        .await
        .expect("list deliveries")
        .expect("the user's endpoint")
}

fn find<'a>(log: &'a [Delivery], event_id: &str) -> &'a Delivery {
    log.iter()
        .find(|d| d.event_id == event_id)
        .unwrap_or_else(|| panic!("a delivery of {event_id}"))
}

async fn claim(s: &dyn Store, now: DateTime<Utc>) -> Vec<DeliveryJob> {
    s.claim_deliveries(now, 30_000, 10)
        .await
        .expect("claim deliveries")
}

async fn deliveries_are_leased_finished_and_redelivered(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let w = webhook(&ann, t0());
    let spare = webhook(&ann, t0());
    s.insert_webhook(&w).await.expect("insert");
    s.insert_webhook(&spare).await.expect("insert");
    assert_eq!(s.next_delivery_at().await.expect("next"), None);

    let (d1, d2) = (delivery(&w, "evt_1"), delivery(&w, "evt_2"));
    assert_eq!(
        s.enqueue_deliveries(&[d1.clone(), d2.clone(), d1.clone()], t0())
            .await
            .expect("enqueue"),
        2,
        "one delivery per endpoint and event, also within a batch"
    );
    assert_eq!(
        s.enqueue_deliveries(std::slice::from_ref(&d1), t0() + secs(1))
            .await
            .expect("enqueue"),
        0,
        "the endpoint has this event already"
    );
    assert_eq!(
        s.enqueue_deliveries(&[delivery(&spare, "evt_1")], t0())
            .await
            .expect("enqueue"),
        1,
        "another endpoint gets the same event"
    );
    assert_eq!(
        s.enqueue_deliveries(&[], t0())
            .await
            .expect("enqueue nothing"),
        0
    );
    assert_eq!(s.next_delivery_at().await.expect("next"), Some(ms(t0())));
    assert!(s.delete_webhook(&ann.id, &spare.id).await.expect("delete"));
    assert_eq!(
        s.list_deliveries(&ann.id, &spare.id, 10)
            .await
            .expect("list"),
        None,
        "a deleted endpoint has no log"
    );

    let queued = log(s, &ann, &w).await;
    assert_eq!(queued.len(), 2);
    for d in &queued {
        assert_eq!(
            (
                d.state,
                d.attempts,
                d.next_attempt_at,
                d.created_at,
                d.updated_at
            ),
            (DeliveryState::Pending, 0, t0(), t0(), t0())
        );
        assert_eq!(
            (d.webhook_id.as_str(), d.event_type.as_str()),
            (w.id.as_str(), "reminder.due")
        );
        assert_eq!((d.last_status, d.last_error.as_deref()), (None, None));
    }
    let (id1, id2) = (
        find(&queued, "evt_1").id.clone(),
        find(&queued, "evt_2").id.clone(),
    );
    assert_ne!(id1, id2);

    // Rotated: both secrets sign while the old one overlaps.
    let overlap = t0() + hours(1);
    assert!(
        s.rotate_webhook_secret(&ann.id, &w.id, "whsec_next", overlap)
            .await
            .expect("rotate")
    );
    let claimed_at = t0() + secs(1);
    let jobs = claim(s, claimed_at).await;
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        assert_eq!(job.webhook_id, w.id);
        assert_eq!(job.url, w.url);
        assert_eq!(job.secrets, ["whsec_next".to_owned(), w.secret.clone()]);
        assert_eq!(job.attempts, 1);
        let event = if job.id == id1 { "evt_1" } else { "evt_2" };
        assert_eq!(job.payload, delivery(&w, event).payload);
    }
    let ids: HashSet<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, HashSet::from([id1.as_str(), id2.as_str()]));
    assert!(claim(s, claimed_at + secs(1)).await.is_empty(), "leased");
    let held = ms(claimed_at) + 30_000;
    assert_eq!(s.next_delivery_at().await.expect("next"), Some(held));

    // Only a lease still held at `held_ms` is renewed.
    s.renew_deliveries(std::slice::from_ref(&id1), held, held + 60_000)
        .await
        .expect("renew");
    s.renew_deliveries(std::slice::from_ref(&id2), held + 1, held + 60_000)
        .await
        .expect("renew");
    s.renew_deliveries(&[], held, held + 60_000)
        .await
        .expect("renew nothing");
    let later = claimed_at + secs(40);
    let jobs = claim(s, later).await;
    assert_eq!(
        jobs.iter()
            .map(|j| (j.id.as_str(), j.attempts))
            .collect::<Vec<_>>(),
        [(id2.as_str(), 2)],
        "d2's lease ran out; d1's was renewed"
    );

    s.finish_delivery(&id2, &Outcome::Delivered { status: 200 }, later + secs(1))
        .await
        .expect("finish");
    let retry_at = t0() + hours(2);
    let retry = Outcome::Retry {
        at_ms: ms(retry_at),
        status: Some(503),
        error: "busy".into(),
    };
    s.finish_delivery(&id1, &retry, later + secs(2))
        .await
        .expect("finish");
    let after = log(s, &ann, &w).await;
    let (l1, l2) = (find(&after, "evt_1"), find(&after, "evt_2"));
    assert_eq!(
        (
            l1.state,
            l1.attempts,
            l1.next_attempt_at,
            l1.last_status,
            l1.last_error.as_deref()
        ),
        (DeliveryState::Pending, 1, retry_at, Some(503), Some("busy"))
    );
    assert_eq!(l1.updated_at, later + secs(2));
    assert_eq!(
        (
            l2.state,
            l2.attempts,
            l2.last_status,
            l2.last_error.as_deref()
        ),
        (DeliveryState::Delivered, 2, Some(200), None)
    );
    assert_eq!(l2.updated_at, later + secs(1));
    assert_eq!(
        s.next_delivery_at().await.expect("next"),
        Some(ms(retry_at))
    );

    // Once the overlap is over, only the new secret signs.
    let jobs = claim(s, retry_at).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].id.as_str(), jobs[0].attempts), (id1.as_str(), 2));
    assert_eq!(jobs[0].secrets, ["whsec_next".to_owned()]);

    // Redelivery: the same delivery, pending again now.
    let again_at = retry_at + secs(1);
    assert!(
        s.redeliver(&ann.id, &w.id, &id2, again_at)
            .await
            .expect("redeliver")
    );
    assert!(
        !s.redeliver(&bob.id, &w.id, &id2, again_at)
            .await
            .expect("redeliver"),
        "not bob's"
    );
    assert!(
        !s.redeliver(&ann.id, &w.id, "msg_nope", again_at)
            .await
            .expect("redeliver")
    );
    let l2 = find(&log(s, &ann, &w).await, "evt_2").clone();
    assert_eq!(
        (l2.id.as_str(), l2.state, l2.next_attempt_at),
        (id2.as_str(), DeliveryState::Pending, again_at)
    );
    let jobs = claim(s, again_at).await;
    assert_eq!(
        jobs.iter()
            .map(|j| (j.id.as_str(), j.attempts))
            .collect::<Vec<_>>(),
        [(id2.as_str(), 3)]
    );

    // A failure that turns the endpoint off.
    let gone = Outcome::Failed {
        status: Some(410),
        error: "the receiver answered 410".into(),
        disable: true,
    };
    s.finish_delivery(&id2, &gone, again_at + secs(1))
        .await
        .expect("finish");
    let hooks = s.list_webhooks(&[ann.id.as_str()]).await.expect("list");
    assert_eq!(hooks.len(), 1);
    assert!(!hooks[0].enabled);
    assert_eq!(
        hooks[0].disabled_reason.as_deref(),
        Some("the receiver answered 410")
    );
    assert!(!hooks[0].wants("reminder.due"));
    let l2 = find(&log(s, &ann, &w).await, "evt_2").clone();
    assert_eq!(
        (l2.state, l2.last_status),
        (DeliveryState::Failed, Some(410))
    );

    // A disabled endpoint's deliveries end when claimed, unsent: d1 (its
    // lease ran out) and a new one.
    let late = t0() + hours(3);
    assert_eq!(
        s.enqueue_deliveries(&[delivery(&w, "evt_3")], late)
            .await
            .expect("enqueue"),
        1
    );
    assert!(
        claim(s, late).await.is_empty(),
        "nothing is sent to a disabled endpoint"
    );
    let ended = log(s, &ann, &w).await;
    assert_eq!(ended[0].event_id, "evt_3", "newest first");
    for event in ["evt_1", "evt_3"] {
        let d = find(&ended, event);
        assert_eq!(d.state, DeliveryState::Failed, "{event}");
        assert_eq!(
            d.last_error.as_deref(),
            Some("the endpoint is disabled"),
            "{event}"
        );
    }
    assert_eq!(s.next_delivery_at().await.expect("next"), None);

    assert_eq!(
        s.list_deliveries(&bob.id, &w.id, 10).await.expect("list"),
        None,
        "not bob's"
    );
    assert_eq!(
        s.list_deliveries(&ann.id, "whk_nope", 10)
            .await
            .expect("list"),
        None
    );
    assert_eq!(
        s.list_deliveries(&ann.id, &w.id, 1)
            .await
            .expect("list")
            .map(|l| l.len()),
        Some(1)
    );
    assert!(s.delete_webhook(&ann.id, &w.id).await.expect("delete"));
    assert_eq!(
        s.list_deliveries(&ann.id, &w.id, 10).await.expect("list"),
        None
    );
}

async fn two_notifiers_never_share_a_delivery(db: &Db) {
    let ann = user(&*db.store, "ann").await;
    let w = webhook(&ann, t0());
    db.store.insert_webhook(&w).await.expect("insert");
    let new: Vec<NewDelivery> = (0..30)
        .map(|i| delivery(&w, &format!("evt_{i:02}")))
        .collect();
    assert_eq!(
        db.store
            .enqueue_deliveries(&new, t0())
            .await
            .expect("enqueue"),
        30
    );

    let notifier = |store: Arc<dyn Store>| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let jobs = store
                    .claim_deliveries(t0() + secs(1), 60_000, 4)
                    .await
                    .expect("claim");
                if jobs.is_empty() {
                    return got;
                }
                got.extend(jobs.into_iter().map(|j| {
                    assert_eq!(j.attempts, 1, "claimed for the first time");
                    j.id
                }));
            }
        })
    };
    let a = notifier(db.store.clone());
    let b = notifier(db.another_handle().await);
    let (a, b) = (a.await.expect("join"), b.await.expect("join"));
    let all: HashSet<_> = a.iter().chain(&b).cloned().collect();
    assert_eq!(a.len() + b.len(), 30, "no delivery claimed twice");
    assert_eq!(all.len(), 30, "every delivery claimed");
    let logged = log(&*db.store, &ann, &w).await;
    assert!(
        logged
            .iter()
            .all(|d| d.attempts == 1 && all.contains(&d.id))
    );
}
