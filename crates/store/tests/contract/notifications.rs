//! Notifications of fired reminders: in-app ones (one per `reminder.due`
//! event, however often it is delivered), the channels a user chose, and
//! the mail queue with its leases (claimed once, renewed only by the
//! holder, claimable again when a lease runs out).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dueflow_domain::event::{Event, EventType};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::reminder::schedule::ScheduledReminder;
use dueflow_store::{
    InApp, MailOutcome, Notification, NotificationQuery, QueuedEmail, ReminderChannels, User,
};
use serde_json::json;

use crate::common::prelude::*;
use crate::common::{Db, create, events_of, hours, mins, ms, secs, t0, user};

both!(
    in_app_notifications_once_per_event,
    reminder_channels_default_to_all,
    mail_queue_leases,
    two_senders_never_share_a_mail,
);

/// The in-app notification the notifier makes of a `reminder.due` event.
fn in_app(due: &Event, created_at: DateTime<Utc>) -> InApp {
    let r: ScheduledReminder =
        serde_json::from_value(due.data["reminder"].clone()).expect("the event's reminder");
    let title = due.data["task"]["title"]
        .as_str()
        .expect("the task's title");
    InApp {
        user_id: due.user_id.clone(),
        notification: Notification {
            id: new_id(IdKind::Notification),
            event_id: due.id.clone(),
            task_id: r.task_id.clone(),
            reminder_id: r.id.clone(),
            title: title.to_owned(),
            body: format!("Reminder: {title}"),
            created_at,
            read_at: None,
        },
        delivered: Event::reminder_delivered(&due.user_id, &r, "in_app", created_at),
    }
}

fn page(limit: u32) -> NotificationQuery {
    NotificationQuery {
        unread_only: false,
        before: None,
        limit,
    }
}

async fn notifications(s: &dyn Store, u: &User, q: NotificationQuery) -> Vec<Notification> {
    s.list_notifications(&u.id, &q)
        .await
        .expect("list notifications")
}

async fn in_app_notifications_once_per_event(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let at = |t: &str| json!({ "at": t });
    create(
        s,
        &ann,
        json!({"title": "Dentist", "reminders": [at("2030-03-01T09:30:00Z"), at("2030-03-01T09:40:00Z")]}),
        t0(),
    )
    .await;
    create(
        s,
        &bob,
        json!({"title": "Gym", "reminders": [at("2030-03-01T09:35:00Z")]}),
        t0(),
    )
    .await;
    assert_eq!(
        s.fire_due_reminders(t0() + hours(1), 10)
            .await
            .expect("fire")
            .len(),
        3
    );
    let due = events_of(s, EventType::ReminderDue).await;
    let of = |u: &User| due.iter().filter(|e| e.user_id == u.id).collect::<Vec<_>>();
    let (anns, bobs) = (of(&ann), of(&bob));

    let notes = [
        in_app(anns[0], t0() + hours(1)),
        in_app(anns[1], t0() + hours(1) + secs(1)),
        in_app(bobs[0], t0() + hours(1)),
    ];
    let seq = s.event_sequence(&ann.id).await.expect("sequence");
    // Bob's event twice in the batch: one notification.
    let batch = [notes.to_vec(), vec![in_app(bobs[0], t0() + hours(1))]].concat();
    assert_eq!(s.notify_in_app(&batch).await.expect("notify"), 3);
    assert_eq!(
        s.event_sequence(&ann.id).await.expect("sequence"),
        seq + 2,
        "each new notification's reminder.delivered"
    );
    // The same events delivered again notify nobody twice.
    let again: Vec<InApp> = [anns[0], anns[1], bobs[0]]
        .into_iter()
        .map(|e| in_app(e, t0() + hours(2)))
        .collect();
    assert_eq!(s.notify_in_app(&again).await.expect("notify"), 0);
    assert_eq!(s.notify_in_app(&[]).await.expect("notify nothing"), 0);
    assert_eq!(s.event_sequence(&ann.id).await.expect("sequence"), seq + 2);
    let delivered = events_of(s, EventType::ReminderDelivered).await;
    assert_eq!(delivered.len(), 3);
    assert!(delivered.iter().all(|e| e.data["channel"] == "in_app"));

    let (n0, n1, nb) = (
        notes[0].notification.clone(),
        notes[1].notification.clone(),
        notes[2].notification.clone(),
    );
    assert_eq!(
        notifications(s, &ann, page(10)).await,
        [n1.clone(), n0.clone()],
        "ann's, newest first"
    );
    assert_eq!(notifications(s, &bob, page(10)).await, vec![nb.clone()]);

    // Keyset pages.
    assert_eq!(notifications(s, &ann, page(1)).await, vec![n1.clone()]);
    let after_n1 = NotificationQuery {
        before: Some((ms(n1.created_at), n1.id.clone())),
        ..page(1)
    };
    assert_eq!(notifications(s, &ann, after_n1).await, vec![n0.clone()]);
    let after_n0 = NotificationQuery {
        before: Some((ms(n0.created_at), n0.id.clone())),
        ..page(10)
    };
    assert!(notifications(s, &ann, after_n0).await.is_empty());

    // Read once: marking again keeps the first time.
    let read = s
        .mark_notification_read(&ann.id, &n0.id, t0() + hours(2))
        .await
        .expect("mark read")
        .expect("ann's notification");
    let n0_read = Notification {
        read_at: Some(t0() + hours(2)),
        ..n0.clone()
    };
    assert_eq!(read, n0_read);
    let again = s
        .mark_notification_read(&ann.id, &n0.id, t0() + hours(3))
        .await
        .expect("mark read")
        .expect("ann's notification");
    assert_eq!(again, n0_read, "idempotent");
    assert_eq!(
        s.mark_notification_read(&bob.id, &n0.id, t0() + hours(3))
            .await
            .expect("mark read"),
        None,
        "bob has no such notification"
    );
    assert_eq!(
        s.mark_notification_read(&ann.id, "ntf_nope", t0())
            .await
            .expect("mark read"),
        None
    );
    let unread = NotificationQuery {
        unread_only: true,
        ..page(10)
    };
    assert_eq!(
        notifications(s, &ann, unread.clone()).await,
        vec![n1.clone()]
    );
    assert_eq!(notifications(s, &ann, page(10)).await, [n1, n0_read]);
    assert_eq!(
        notifications(s, &bob, unread).await,
        [nb],
        "bob's is unread"
    );
}

async fn reminder_channels_default_to_all(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let all = ReminderChannels {
        in_app: true,
        email: true,
        webhook: true,
    };
    assert_eq!(s.reminder_channels(&ann.id).await.expect("channels"), all);
    assert_eq!(ReminderChannels::default(), all);

    let quiet = ReminderChannels {
        in_app: true,
        email: false,
        webhook: false,
    };
    s.set_reminder_channels(&ann.id, quiet).await.expect("set");
    assert_eq!(s.reminder_channels(&ann.id).await.expect("channels"), quiet);
    let hooks_only = ReminderChannels {
        in_app: false,
        email: false,
        webhook: true,
    };
    s.set_reminder_channels(&ann.id, hooks_only)
        .await
        .expect("set again");
    assert_eq!(
        s.reminder_channels(&ann.id).await.expect("channels"),
        hooks_only
    );
    assert_eq!(s.reminder_channels(&bob.id).await.expect("channels"), all);

    // No address (or none verified): nothing to mail reminders to. (The
    // verification scenarios cover verified addresses.)
    assert_eq!(s.verified_email(&ann.id).await.expect("email"), None);
    assert_eq!(s.verified_email("usr_nobody").await.expect("email"), None);
}

fn mail(user: &User, n: u32) -> QueuedEmail {
    QueuedEmail {
        event_id: new_id(IdKind::Event),
        user_id: user.id.clone(),
        to: format!("{}@example.com", user.name),
        subject: format!("Reminder {n}"),
        body: format!("Body {n}"),
    }
}

async fn claim(s: &dyn Store, now: DateTime<Utc>, lease_ms: i64) -> Vec<(QueuedEmail, i64)> {
    s.claim_emails(now, lease_ms, 10).await.expect("claim")
}

async fn mail_queue_leases(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    assert_eq!(s.next_email_at().await.expect("next"), None);
    let m1 = mail(&ann, 1);
    let m2 = mail(&ann, 2);
    assert!(s.queue_email(&m1, t0()).await.expect("queue"));
    let changed = QueuedEmail {
        body: "another body".into(),
        ..m1.clone()
    };
    assert!(
        !s.queue_email(&changed, t0()).await.expect("queue"),
        "queued once per event"
    );
    assert!(s.queue_email(&m2, t0() + secs(1)).await.expect("queue"));
    assert_eq!(s.next_email_at().await.expect("next"), Some(ms(t0())));

    const LEASE: i64 = 60_000;
    let claimed_at = t0() + secs(5);
    assert_eq!(
        claim(s, claimed_at, LEASE).await,
        [(m1.clone(), 1), (m2.clone(), 1)],
        "due mails, oldest first, the first body kept, attempt 1"
    );
    let held = ms(claimed_at) + LEASE;
    assert!(
        claim(s, claimed_at + secs(5), LEASE).await.is_empty(),
        "leased"
    );
    assert_eq!(s.next_email_at().await.expect("next"), Some(held));

    // Renewal moves a lease only where it is still held at `held_ms`.
    s.renew_emails(std::slice::from_ref(&m1.event_id), held, held + 60_000)
        .await
        .expect("renew");
    s.renew_emails(std::slice::from_ref(&m2.event_id), held - 1, held + 60_000)
        .await
        .expect("renew");
    s.renew_emails(&[], held, held + 60_000)
        .await
        .expect("renew nothing");
    assert_eq!(s.next_email_at().await.expect("next"), Some(held));
    let expired = claimed_at + secs(65);
    assert_eq!(
        claim(s, expired, LEASE).await,
        [(m2.clone(), 2)],
        "m2's lease ran out; m1's was renewed"
    );

    // Sent: done with. Retry: due again at the time given.
    s.finish_email(&m1.event_id, &MailOutcome::Sent, expired)
        .await
        .expect("finish");
    let retry_at = t0() + hours(1);
    let retry = MailOutcome::Retry {
        at_ms: ms(retry_at),
        error: "451 try later".into(),
    };
    s.finish_email(&m2.event_id, &retry, expired)
        .await
        .expect("finish");
    assert_eq!(s.next_email_at().await.expect("next"), Some(ms(retry_at)));
    assert!(claim(s, retry_at - secs(1), LEASE).await.is_empty());
    // A finished mail is not renewed back into the queue.
    s.renew_emails(
        std::slice::from_ref(&m1.event_id),
        ms(expired),
        ms(retry_at),
    )
    .await
    .expect("renew");
    assert_eq!(claim(s, retry_at, LEASE).await, [(m2.clone(), 3)]);

    let failed = MailOutcome::Failed {
        error: "550 no such mailbox".into(),
    };
    s.finish_email(&m2.event_id, &failed, retry_at + secs(1))
        .await
        .expect("finish");
    assert_eq!(s.next_email_at().await.expect("next"), None);
    assert!(
        claim(s, t0() + hours(1000), LEASE).await.is_empty(),
        "nothing left to send"
    );
    assert!(
        !s.queue_email(&m1, t0() + hours(2)).await.expect("queue"),
        "sent already"
    );
}

async fn two_senders_never_share_a_mail(db: &Db) {
    let ann = user(&*db.store, "ann").await;
    let mut queued = HashSet::new();
    for n in 0..30 {
        let m = mail(&ann, n);
        assert!(
            db.store
                .queue_email(&m, t0() + mins(i64::from(n % 3)))
                .await
                .expect("queue")
        );
        queued.insert(m.event_id);
    }
    let sender = |store: Arc<dyn Store>| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = store
                    .claim_emails(t0() + hours(1), 60_000, 4)
                    .await
                    .expect("claim");
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|(m, attempts)| {
                    assert_eq!(attempts, 1, "claimed for the first time");
                    m.event_id
                }));
            }
        })
    };
    let a = sender(db.store.clone());
    let b = sender(db.another_handle().await);
    let (a, b) = (a.await.expect("join"), b.await.expect("join"));
    let all: HashSet<_> = a.iter().chain(&b).cloned().collect();
    assert_eq!(a.len() + b.len(), 30, "no mail claimed twice");
    assert_eq!(all, queued, "every mail claimed");
}
