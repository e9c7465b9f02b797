//! Search highlighting: the words a list was searched for, marked in the
//! titles it shows. Words are matched as the full-text index matches them
//! (runs of letters and digits, without case; the last word typed also as
//! the start of a longer one), from the text terms every result matched.

use dueflow_domain::query::Expr;
use dueflow_store::listing::top_level_text;

/// What to mark; empty when the list was not searched.
#[derive(Debug, Default)]
pub struct Highlighter {
    words: Vec<(String, bool)>,
}

/// A piece of a title, marked or not.
pub struct Piece {
    pub text: String,
    pub marked: bool,
}

impl Highlighter {
    pub fn new(filter: &Expr) -> Highlighter {
        let words = top_level_text(filter)
            .into_iter()
            .flat_map(|item| {
                let prefix = item.prefix;
                item.tokens.into_iter().map(move |t| (t, prefix))
            })
            .collect();
        Highlighter { words }
    }

    /// Whether the list was searched for words at all.
    pub fn searched(&self) -> bool {
        !self.words.is_empty()
    }

    fn matches(&self, word: &str) -> bool {
        let word = word.to_lowercase();
        self.words
            .iter()
            .any(|(w, prefix)| word == *w || (*prefix && word.starts_with(w.as_str())))
    }

    /// `text` in pieces, the searched words marked.
    pub fn pieces(&self, text: &str) -> Vec<Piece> {
        let mut out: Vec<Piece> = Vec::new();
        let mut push = |s: &str, marked: bool| match out.last_mut() {
            Some(last) if last.marked == marked => last.text.push_str(s),
            _ => out.push(Piece {
                text: s.to_owned(),
                marked,
            }),
        };
        let mut rest = text;
        while let Some(start) = rest.find(char::is_alphanumeric) {
            push(&rest[..start], false);
            let word = &rest[start..];
            let end = word
                .find(|c: char| !c.is_alphanumeric())
                .unwrap_or(word.len());
            push(&word[..end], self.matches(&word[..end]));
            rest = &word[end..];
        }
        push(rest, false);
        out.retain(|p| !p.text.is_empty());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(q: &str, title: &str) -> String {
        let h = Highlighter::new(&dueflow_domain::query::parse(q).unwrap());
        h.pieces(title)
            .iter()
            .map(|p| {
                if p.marked {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn marks_searched_words_as_the_index_matches_them() {
        assert_eq!(
            marked("report", "Q3 Report, reporting"),
            "Q3 [Report], [reporting]"
        );
        assert_eq!(marked("rep tag:x", "Report rep"), "[Report] [rep]");
        assert_eq!(
            marked("\"budget report\" q3", "Budget report: q3, q30"),
            "[Budget] [report]: [q3], [q30]"
        );
        assert_eq!(marked("tag:work", "Report"), "Report");
        assert_eq!(marked("-report", "Report"), "Report");
        assert_eq!(marked("café", "Le Café"), "Le [Café]");
    }
}
