//! Conversations with the assistant: kept per user, listed most recently
//! active first, and saved only on top of the version they were read at.

use chrono::{DateTime, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_store::{Conversation, ConversationHead};
use serde_json::json;

use crate::common::{Db, mins, t0, user};

both!(conversations_are_per_user_and_versioned);

fn conversation(first: &str, at: DateTime<Utc>) -> Conversation {
    Conversation {
        head: ConversationHead {
            id: new_id(IdKind::Conversation),
            title: first.to_owned(),
            created_at: at,
            updated_at: at,
        },
        turns: json!([{"role": "user", "text": first}]).to_string(),
        pending: None,
        version: 1,
    }
}

/// `c` as saved after one more turn at `at`, based on the version read.
fn continued(c: &Conversation, said: &str, at: DateTime<Utc>) -> Conversation {
    let mut turns: Vec<serde_json::Value> = serde_json::from_str(&c.turns).expect("turns");
    turns.push(json!({"role": "assistant", "text": said}));
    Conversation {
        head: ConversationHead {
            updated_at: at,
            ..c.head.clone()
        },
        turns: serde_json::Value::from(turns).to_string(),
        pending: Some(json!({"tool": "complete_task", "task": "tsk_1"}).to_string()),
        version: c.version + 1,
    }
}

async fn conversations_are_per_user_and_versioned(db: &Db) {
    let s = &*db.store;
    let ann = user(s, "ann").await;
    let bob = user(s, "bob").await;
    assert!(
        s.conversation_heads(&ann.id, 10)
            .await
            .expect("heads")
            .is_empty()
    );

    let c1 = conversation("What is due today?", t0());
    let c2 = conversation("Plan my week", t0() + mins(1));
    s.insert_conversation(&ann.id, &c1).await.expect("insert");
    s.insert_conversation(&ann.id, &c2).await.expect("insert");
    let bobs = conversation("Hello", t0() + mins(2));
    s.insert_conversation(&bob.id, &bobs).await.expect("insert");

    let heads =
        |id: String, limit| async move { s.conversation_heads(&id, limit).await.expect("heads") };
    assert_eq!(
        heads(ann.id.clone(), 10).await,
        [c2.head.clone(), c1.head.clone()],
        "the most recently active first"
    );
    assert_eq!(heads(ann.id.clone(), 1).await, vec![c2.head.clone()]);
    assert_eq!(heads(bob.id.clone(), 10).await, vec![bobs.head.clone()]);

    assert_eq!(
        s.conversation(&ann.id, &c1.head.id).await.expect("read"),
        Some(c1.clone())
    );
    assert_eq!(
        s.conversation(&bob.id, &c1.head.id).await.expect("read"),
        None,
        "not bob's"
    );
    assert_eq!(
        s.conversation(&ann.id, "cnv_nope").await.expect("read"),
        None
    );

    // A save based on the version read lands and moves it to the top.
    let v2 = continued(&c1, "Two tasks.", t0() + mins(5));
    assert!(s.replace_conversation(&ann.id, &v2).await.expect("replace"));
    assert_eq!(
        s.conversation(&ann.id, &c1.head.id).await.expect("read"),
        Some(v2.clone())
    );
    assert_eq!(
        heads(ann.id.clone(), 10).await,
        [v2.head.clone(), c2.head.clone()]
    );

    // Another save based on version 1 came second: refused.
    let stale = continued(&c1, "Something else.", t0() + mins(6));
    assert!(
        !s.replace_conversation(&ann.id, &stale)
            .await
            .expect("replace")
    );
    let skipping = Conversation {
        version: 4,
        ..continued(&v2, "Skipping a version.", t0() + mins(6))
    };
    assert!(
        !s.replace_conversation(&ann.id, &skipping)
            .await
            .expect("replace")
    );
    let v3 = continued(&v2, "Done.", t0() + mins(7));
    assert!(
        !s.replace_conversation(&bob.id, &v3).await.expect("replace"),
        "bob cannot save ann's conversation"
    );
    assert_eq!(
        s.conversation(&ann.id, &c1.head.id).await.expect("read"),
        Some(v2.clone()),
        "refused saves change nothing"
    );
    let v3 = Conversation {
        pending: None,
        ..v3
    };
    assert!(s.replace_conversation(&ann.id, &v3).await.expect("replace"));
    assert_eq!(
        s.conversation(&ann.id, &c1.head.id).await.expect("read"),
        Some(v3.clone()),
        "the waiting action is cleared"
    );

    assert!(
        !s.delete_conversation(&bob.id, &c1.head.id)
            .await
            .expect("delete")
    );
    assert!(
        s.delete_conversation(&ann.id, &c1.head.id)
            .await
            .expect("delete")
    );
    assert!(
        !s.delete_conversation(&ann.id, &c1.head.id)
            .await
            .expect("delete")
    );
    assert_eq!(
        s.conversation(&ann.id, &c1.head.id).await.expect("read"),
        None
    );
    let gone = continued(&v3, "Anyone there?", t0() + mins(8));
    assert!(
        !s.replace_conversation(&ann.id, &gone)
            .await
            .expect("replace"),
        "the conversation is gone"
    );
    assert_eq!(heads(ann.id.clone(), 10).await, [c2.head]);
    assert_eq!(heads(bob.id, 10).await, [bobs.head]);
}
