//! Splits quick-add text into words with their byte ranges. Quoted text
//! (`"…"` or `“…”`) becomes one word that no phrase ever matches, so quoting
//! keeps words out of the parse.

/// One word of the input.
#[derive(Debug, Clone)]
pub(super) struct Word {
    /// Byte range of the word in the input, trailing punctuation left out.
    pub start: usize,
    pub end: usize,
    /// The word in lower case, for matching.
    pub text: String,
    /// A quoted stretch: never part of a phrase.
    pub quoted: bool,
}

/// Punctuation that ends a word without being part of it (`friday,`).
fn is_trailing_punct(c: char) -> bool {
    matches!(c, ',' | '.' | ';' | ':' | '?' | ')' | ']' | '!')
}

fn is_quote_open(c: char) -> bool {
    matches!(c, '"' | '“')
}

fn is_quote_close(c: char) -> bool {
    matches!(c, '"' | '”')
}

/// The words of `text`, in order, and the byte positions of the quote marks
/// that enclose quoted words (they are left out of the title).
pub(super) fn words(text: &str) -> (Vec<Word>, Vec<(usize, usize)>) {
    let mut out = Vec::new();
    let mut quote_marks = Vec::new();
    let mut chars = text.char_indices().peekable();
    // Once a quote finds no closing mark, no later one will.
    let mut closes_left = true;
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let close = if closes_left && is_quote_open(c) {
            let found = text[i + c.len_utf8()..].find(is_quote_close);
            closes_left = found.is_some();
            found
        } else {
            None
        };
        if let Some(close) = close {
            let inner = i + c.len_utf8();
            let close = inner + close;
            let close_len = text[close..].chars().next().map_or(1, char::len_utf8);
            quote_marks.push((i, inner));
            quote_marks.push((close, close + close_len));
            out.push(Word {
                start: inner,
                end: close,
                text: String::new(),
                quoted: true,
            });
            while chars.peek().is_some_and(|&(j, _)| j < close + close_len) {
                chars.next();
            }
            continue;
        }
        let start = i;
        let mut end = i;
        while let Some(&(j, c)) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            end = j + c.len_utf8();
            chars.next();
        }
        let raw = &text[start..end];
        let mut core = raw.trim_end_matches(is_trailing_punct);
        // `every!` keeps its mark; `!high` and `#tag` their leading one.
        if raw.eq_ignore_ascii_case("every!") {
            core = raw;
        }
        let lead = core.len() - core.trim_start_matches(['(', '[']).len();
        let core = &core[lead..];
        if core.is_empty() {
            continue;
        }
        out.push(Word {
            start: start + lead,
            end: start + lead + core.len(),
            text: core.to_lowercase(),
            quoted: false,
        });
    }
    (out, quote_marks)
}
