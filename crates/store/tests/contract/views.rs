//! Saved views: a user's named queries, unique per user by name (compared
//! as written), listed by name, replaced and deleted only by their owner.

use chrono::{DateTime, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_store::{SavedView, StoreError};

use crate::common::{Db, mins, t0, user};

both!(saved_views_are_per_user_and_unique_by_name);

fn view(name: &str, query: &str, at: DateTime<Utc>) -> SavedView {
    SavedView {
        id: new_id(IdKind::View),
        name: name.to_owned(),
        query: query.to_owned(),
        sort: "due,-priority".to_owned(),
        created_at: at,
        updated_at: at,
    }
}

fn is_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}

async fn saved_views_are_per_user_and_unique_by_name(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    assert!(s.saved_views(&ann.id).await.expect("views").is_empty());

    let today = view("Today", "due<=today status:open", t0());
    let backlog = view("Backlog", "-due status:open", t0() + mins(1));
    s.insert_saved_view(&ann.id, &today).await.expect("insert");
    s.insert_saved_view(&ann.id, &backlog)
        .await
        .expect("insert");
    assert_eq!(
        s.saved_views(&ann.id).await.expect("views"),
        [backlog.clone(), today.clone()],
        "by name"
    );

    let twin = view("Today", "tag:work", t0() + mins(2));
    assert!(
        is_conflict(s.insert_saved_view(&ann.id, &twin).await),
        "ann has a view of that name"
    );
    let lower = view("today", "tag:home", t0() + mins(2));
    s.insert_saved_view(&ann.id, &lower)
        .await
        .expect("names are compared as written");
    let bobs = view("Today", "tag:gym", t0() + mins(3));
    s.insert_saved_view(&bob.id, &bobs)
        .await
        .expect("bob's names are his own");
    assert_eq!(
        s.saved_views(&ann.id).await.expect("views"),
        [backlog.clone(), today.clone(), lower.clone()]
    );
    assert_eq!(
        s.saved_views(&bob.id).await.expect("views"),
        vec![bobs.clone()]
    );

    let later = SavedView {
        name: "Later".into(),
        query: "due>7d".into(),
        sort: "-priority".into(),
        updated_at: t0() + mins(10),
        ..today.clone()
    };
    assert!(
        s.replace_saved_view(&ann.id, &later)
            .await
            .expect("replace")
    );
    assert_eq!(
        s.saved_views(&ann.id).await.expect("views"),
        [backlog.clone(), later.clone(), lower.clone()]
    );
    let clash = SavedView {
        name: "Backlog".into(),
        ..later.clone()
    };
    assert!(
        is_conflict(s.replace_saved_view(&ann.id, &clash).await),
        "renaming onto another view's name"
    );
    assert!(
        !s.replace_saved_view(&bob.id, &later)
            .await
            .expect("replace"),
        "bob has no view of that id"
    );
    let unknown = view("Nowhere", "", t0());
    assert!(
        !s.replace_saved_view(&ann.id, &unknown)
            .await
            .expect("replace")
    );
    assert_eq!(
        s.saved_views(&ann.id).await.expect("views"),
        [backlog.clone(), later.clone(), lower.clone()],
        "refused changes change nothing"
    );

    assert!(
        !s.delete_saved_view(&bob.id, &later.id)
            .await
            .expect("delete")
    );
    assert!(
        s.delete_saved_view(&ann.id, &later.id)
            .await
            .expect("delete")
    );
    assert!(
        !s.delete_saved_view(&ann.id, &later.id)
            .await
            .expect("delete")
    );
    assert_eq!(
        s.saved_views(&ann.id).await.expect("views"),
        [backlog, lower]
    );
    assert_eq!(s.saved_views(&bob.id).await.expect("views"), [bobs]);
}
