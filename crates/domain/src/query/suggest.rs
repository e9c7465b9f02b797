//! What a filter field can offer as a query is typed: the word at the caret
//! completed to a filter name (`pri` → `priority:`) or, after a filter's
//! operator, to one of its values (`tag:wo` → `tag:work`, `due<=` →
//! `due<=7d`). The language is known here only, so every client suggests
//! what the parser accepts.

use serde::Serialize;

use crate::priority::Priority;

use super::FILTERS;

/// Most suggestions offered at once.
pub const MAX_SUGGESTIONS: usize = 8;

/// Replace the characters `from..to` of the query with one of `items`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Suggestions {
    pub from: usize,
    pub to: usize,
    pub items: Vec<Suggestion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// The text that replaces the word, e.g. `tag:work`.
    pub text: String,
    /// What it means, e.g. "open tasks" (empty when the text says it).
    pub hint: &'static str,
}

/// The values each filter takes, with what they mean.
fn values(field: &str) -> &'static [(&'static str, &'static str)] {
    match field {
        "status" => &[("open", "not done"), ("done", "completed")],
        "due" => &[
            ("today", ""),
            ("tomorrow", ""),
            ("7d", "seven days from now"),
            ("none", "no due date"),
            ("yesterday", ""),
            ("-7d", "seven days ago"),
        ],
        "created" | "updated" => &[
            ("today", ""),
            ("yesterday", ""),
            ("-7d", "seven days ago"),
            ("-30d", "thirty days ago"),
        ],
        _ => &[],
    }
}

/// What a filter name means, for its suggestion.
fn meaning(name: &str) -> &'static str {
    match name {
        "status" => "open or done",
        "priority" => "none, low, medium, high, urgent",
        "tag" => "one of your tags",
        "due" => "a date, today, 7d, none",
        "created" => "when the task was made",
        "updated" => "when it last changed",
        "overdue" => "open and past due",
        _ => "",
    }
}

/// Suggestions for the word of `query` that ends at character `caret`
/// (a caret past the end is the end); `tags` are the user's tags.
pub fn suggest(query: &str, caret: usize, tags: &[String]) -> Suggestions {
    let chars: Vec<char> = query.chars().collect();
    let to = caret.min(chars.len());
    let from = chars[..to]
        .iter()
        .rposition(|c| c.is_whitespace() || *c == '(')
        .map_or(0, |i| i + 1);
    let word: String = chars[from..to].iter().collect();
    let bare = word.trim_start_matches('-');
    let sign = &word[..word.len() - bare.len()];
    let op_at = bare.find([':', '<', '>', '=']);
    let mut items: Vec<Suggestion> = match op_at {
        None if bare.is_empty() => Vec::new(),
        None => FILTERS
            .iter()
            .filter(|f| f.starts_with(&bare.to_lowercase()) && **f != bare.to_lowercase())
            .map(|f| Suggestion {
                text: if *f == "overdue" {
                    format!("{sign}overdue")
                } else {
                    format!("{sign}{f}:")
                },
                hint: meaning(f),
            })
            .collect(),
        Some(at) => {
            let field = bare[..at].to_lowercase();
            let rest = &bare[at..];
            let op_len = rest
                .find(|c: char| !matches!(c, ':' | '<' | '>' | '='))
                .unwrap_or(rest.len());
            let (op, typed) = rest.split_at(op_len);
            let typed = typed.trim_start_matches('"').to_lowercase();
            let head = format!("{sign}{field}{op}");
            let offered: Vec<(String, &'static str)> = match field.as_str() {
                "tag" => tags.iter().map(|t| (t.clone(), "")).collect(),
                "priority" => Priority::ALL
                    .iter()
                    .map(|p| (p.as_str().to_owned(), ""))
                    .collect(),
                f => values(f)
                    .iter()
                    .filter(|(v, _)| *v != "none" || op == ":")
                    .map(|(v, h)| ((*v).to_owned(), *h))
                    .collect(),
            };
            offered
                .into_iter()
                .filter(|(v, _)| v.starts_with(&typed) && *v != typed)
                .map(|(v, hint)| Suggestion {
                    text: format!("{head}{v}"),
                    hint,
                })
                .collect()
        }
    };
    items.truncate(MAX_SUGGESTIONS);
    Suggestions { from, to, items }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(q: &str, caret: usize, tags: &[&str]) -> (usize, usize, Vec<String>) {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        let s = suggest(q, caret, &tags);
        (s.from, s.to, s.items.into_iter().map(|i| i.text).collect())
    }

    #[test]
    fn a_word_completes_to_a_filter_name() {
        assert_eq!(texts("pri", 3, &[]), (0, 3, vec!["priority:".into()]));
        assert_eq!(texts("milk -ta", 8, &[]), (5, 8, vec!["-tag:".into()]));
        assert_eq!(texts("(st", 3, &[]), (1, 3, vec!["status:".into()]));
        assert_eq!(texts("ov", 2, &[]), (0, 2, vec!["overdue".into()]));
        // Plain words and a complete name offer nothing.
        assert_eq!(texts("milk", 4, &[]).2, Vec::<String>::new());
        assert_eq!(texts("overdue", 7, &[]).2, Vec::<String>::new());
        assert_eq!(texts("milk ", 5, &[]).2, Vec::<String>::new());
    }

    #[test]
    fn after_an_operator_come_the_filters_values() {
        assert_eq!(
            texts("tag:wo", 6, &["home", "work", "workshop"]).2,
            vec!["tag:work", "tag:workshop"]
        );
        assert_eq!(
            texts("status:", 7, &[]).2,
            vec!["status:open", "status:done"]
        );
        assert_eq!(texts("priority>=h", 11, &[]).2, vec!["priority>=high"]);
        // `none` is a due's value only with ':'.
        assert!(texts("due:", 4, &[]).2.contains(&"due:none".to_owned()));
        assert!(!texts("due<=", 5, &[]).2.iter().any(|t| t.ends_with("none")));
        assert_eq!(texts("-Tag:h", 6, &["home"]).2, vec!["-tag:home"]);
        assert_eq!(texts("http:", 5, &[]).2, Vec::<String>::new());
    }

    #[test]
    fn positions_are_characters_and_the_caret_ends_the_word() {
        // The word is what precedes the caret; what follows stays.
        assert_eq!(texts("café ta milk", 7, &[]), (5, 7, vec!["tag:".into()]));
        assert_eq!(texts("tag:", 99, &["a"]), (0, 4, vec!["tag:a".into()]));
        let many: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        assert_eq!(suggest("tag:", 4, &many).items.len(), MAX_SUGGESTIONS);
    }
}
