//! Text that HTML never needs escaped (ids such as `tsk_01a2…`), checked
//! once when made, so that a page writes it as is: a list writes each
//! task's id several times, and escaping them was a tenth of its render.

use std::fmt;

use askama::filters::{Escaper, Html, HtmlSafe};

/// Letters, digits, `_`, `-`, `.` and `:`; anything else was escaped when
/// the value was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain(String);

impl From<&str> for Plain {
    fn from(s: &str) -> Plain {
        if s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
        {
            Plain(s.to_owned())
        } else {
            let mut escaped = String::with_capacity(s.len() + 8);
            Html.write_escaped_str(&mut escaped, s)
                .expect("writing to a string does not fail");
            Plain(escaped)
        }
    }
}

impl fmt::Display for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl HtmlSafe for Plain {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_and_anything_else_is_escaped() {
        assert_eq!(
            Plain::from("tsk_01a24ed4-2.x:y").to_string(),
            "tsk_01a24ed4-2.x:y"
        );
        assert_eq!(
            Plain::from("a\"><script>").to_string(),
            "a&#34;&#62;&#60;script&#62;"
        );
    }
}
