//! Users, their tokens and preferences, and each user's event sequence:
//! what signing in and every authenticated request stand on.

use chrono_tz::Tz;
use dueflow_domain::event::Event;
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::quickadd::DateOrder;
use dueflow_store::{Preferences, StoreError, TokenKind, TokenOwner, TokenRecord, User};
use serde_json::json;

use crate::common::{Db, change, create, hours, mins, ms, patched, secs, t0, user};

both!(
    schema_and_health,
    users_and_preferences,
    tokens_live_until_revoked_or_expired,
    event_sequence_counts_every_write,
);

async fn schema_and_health(db: &Db) {
    let s = &*db.store;
    assert_eq!(s.backend(), db.backend.name());
    s.ping().await.expect("the database answers");
    let ann = user(s, "ann").await;
    s.migrate().await.expect("migrating again is a no-op");
    assert_eq!(
        s.user_credentials("ann")
            .await
            .expect("read")
            .map(|(u, _)| u),
        Some(ann),
        "migrating again keeps the data"
    );
}

async fn users_and_preferences(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;

    let (found, hash) = s
        .user_credentials("ann")
        .await
        .expect("read")
        .expect("ann is found by her name");
    assert_eq!(found, ann);
    assert_eq!(hash, "hash of ann");
    assert!(s.user_credentials("bob").await.expect("read").is_none());

    // The name is taken: a conflict, and nothing of the second user stays.
    let again = User {
        id: new_id(IdKind::User),
        ..ann.clone()
    };
    match s.create_user(&again, "another hash").await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a taken name is a conflict, got {other:?}"),
    }
    let (still, hash) = s.user_credentials("ann").await.expect("read").expect("ann");
    assert_eq!((still.id, hash.as_str()), (ann.id.clone(), "hash of ann"));

    // Preferences change what they set and keep the rest.
    let berlin: Tz = "Europe/Berlin".parse().expect("a zone");
    let zoned = s
        .set_preferences(
            &ann.id,
            Preferences {
                tz: Some(berlin),
                date_order: None,
            },
        )
        .await
        .expect("set preferences")
        .expect("ann exists");
    assert_eq!(
        zoned,
        User {
            tz: berlin,
            ..ann.clone()
        }
    );
    let ordered = s
        .set_preferences(
            &ann.id,
            Preferences {
                tz: None,
                date_order: Some(DateOrder::Mdy),
            },
        )
        .await
        .expect("set preferences")
        .expect("ann exists");
    assert_eq!(
        ordered,
        User {
            tz: berlin,
            date_order: DateOrder::Mdy,
            ..ann.clone()
        }
    );
    let unchanged = s
        .set_preferences(&ann.id, Preferences::default())
        .await
        .expect("set nothing")
        .expect("ann exists");
    assert_eq!(unchanged, ordered);
    assert_eq!(
        s.user_credentials("ann")
            .await
            .expect("read")
            .map(|(u, _)| u),
        Some(ordered),
        "the stored user has the new preferences"
    );
    assert_eq!(
        s.set_preferences(
            "usr_nobody",
            Preferences {
                tz: Some(berlin),
                date_order: Some(DateOrder::Ymd),
            },
        )
        .await
        .expect("set preferences"),
        None,
        "no such user"
    );
}

async fn tokens_live_until_revoked_or_expired(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let token = |u: &User, name: &str, kind, created_at, expires_at| TokenRecord {
        id: new_id(IdKind::Token),
        user_id: u.id.clone(),
        name: name.to_owned(),
        kind,
        created_at,
        expires_at,
    };
    let api = token(&ann, "laptop", TokenKind::Api, t0(), None);
    let session = token(
        &ann,
        "web",
        TokenKind::Session,
        t0() + secs(1),
        Some(t0() + hours(1)),
    );
    let bobs = token(&bob, "phone", TokenKind::Api, t0(), None);
    s.insert_token(&api, &[1; 32]).await.expect("insert");
    s.insert_token(&session, &[2; 32]).await.expect("insert");
    s.insert_token(&bobs, &[3; 32]).await.expect("insert");

    let owner =
        |d: [u8; 32], at| async move { s.user_by_token(&d, ms(at)).await.expect("user by token") };
    assert_eq!(
        owner([1; 32], t0() + hours(1000)).await,
        Some(TokenOwner {
            token_id: api.id.clone(),
            user: ann.clone(),
            expires_at_ms: None,
        }),
        "an API token lives until revoked"
    );
    assert_eq!(
        owner([2; 32], t0() + mins(59)).await,
        Some(TokenOwner {
            token_id: session.id.clone(),
            user: ann.clone(),
            expires_at_ms: Some(ms(t0() + hours(1))),
        })
    );
    assert_eq!(owner([2; 32], t0() + hours(1)).await, None, "expired");
    assert_eq!(owner([2; 32], t0() + hours(2)).await, None, "expired");
    assert_eq!(owner([9; 32], t0()).await, None, "unknown digest");
    assert_eq!(
        owner([3; 32], t0()).await.map(|o| o.user),
        Some(bob.clone())
    );

    assert_eq!(
        s.list_tokens(&ann.id).await.expect("list"),
        vec![api.clone(), session.clone()],
        "a user's tokens, oldest first"
    );
    assert_eq!(s.list_tokens(&bob.id).await.expect("list"), vec![bobs]);

    assert!(
        !s.revoke_token(&bob.id, &api.id).await.expect("revoke"),
        "bob cannot revoke ann's token"
    );
    assert!(owner([1; 32], t0()).await.is_some());
    assert!(s.revoke_token(&ann.id, &api.id).await.expect("revoke"));
    assert!(
        !s.revoke_token(&ann.id, &api.id).await.expect("revoke"),
        "revoked already"
    );
    assert_eq!(owner([1; 32], t0()).await, None, "a revoked token is dead");
    assert_eq!(s.list_tokens(&ann.id).await.expect("list"), vec![session]);
}

async fn event_sequence_counts_every_write(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    let seq = |id: String| async move { s.event_sequence(&id).await.expect("sequence") };
    assert_eq!(seq(ann.id.clone()).await, 0, "0 before any event");
    assert_eq!(seq("usr_nobody".into()).await, 0);

    let rent = create(s, &ann, json!({"title": "Pay rent"}), t0()).await;
    assert_eq!(seq(ann.id.clone()).await, 1);

    // A task with two reminders: its event and one per reminder scheduled.
    create(
        s,
        &ann,
        json!({
            "title": "Dentist",
            "due": "2030-03-02T10:00:00Z",
            "reminders": [{"before": "PT1H"}, {"before": "P1D"}]
        }),
        t0(),
    )
    .await;
    assert_eq!(seq(ann.id.clone()).await, 4);

    let renamed = change(s, &ann, &rent, json!({"title": "Pay the rent"}), t0()).await;
    assert_eq!(seq(ann.id.clone()).await, 5);

    // A stale write writes no event.
    let stale = patched(&rent, json!({"notes": "by Friday"}), t0());
    assert!(
        !s.replace_task(
            &ann.id,
            &stale,
            rent.version,
            &[Event::task_updated(&ann.id, &rent, &stale)]
        )
        .await
        .expect("replace")
    );
    assert_eq!(seq(ann.id.clone()).await, 5);

    let deleted = Event::task_deleted(&ann.id, &renamed.id, t0());
    assert!(
        s.delete_task(&ann.id, &renamed.id, &deleted)
            .await
            .expect("delete")
    );
    assert_eq!(seq(ann.id.clone()).await, 6);
    let deleted = Event::task_deleted(&ann.id, &renamed.id, t0());
    assert!(
        !s.delete_task(&ann.id, &renamed.id, &deleted)
            .await
            .expect("delete")
    );
    assert_eq!(
        seq(ann.id.clone()).await,
        6,
        "deleting nothing records nothing"
    );

    assert_eq!(seq(bob.id.clone()).await, 0, "ann's writes are not bob's");
}
