//! Tags: short labels, case-insensitive, normalised to one spelling so that
//! `Work`, ` work ` and `WORK` are the same tag. Created on first use.

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::FieldError;

pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_LEN: usize = 64;

/// Whether `c` may stand in a tag: a letter or a number by its Unicode
/// general category (so `é` and `٣`, not the symbol `Ⓐ` or a lone
/// combining mark), or one of `-_./`.
fn tag_char(c: char) -> bool {
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
    ) || matches!(c, '-' | '_' | '.' | '/')
}

/// Normalise one tag: trimmed, lower-case; letters, digits and `-_./` only.
/// The rules apply to the tag as written, before it is lower-cased (which
/// can change a letter's length, as `İ` becomes `i̇`).
pub fn normalise(field: &str, raw: &str) -> Result<String, FieldError> {
    let written = raw.trim();
    if written.is_empty() {
        return Err(FieldError::new(field, "a tag cannot be empty"));
    }
    if written.chars().count() > MAX_TAG_LEN {
        return Err(FieldError::new(
            field,
            format!("a tag has at most {MAX_TAG_LEN} characters"),
        ));
    }
    if let Some(bad) = written.chars().find(|c| !tag_char(*c)) {
        return Err(FieldError::new(
            field,
            format!("'{raw}' contains '{bad}'; tags use letters, digits and - _ . / only"),
        ));
    }
    Ok(written.to_lowercase())
}

/// Normalise a whole list: each tag, duplicates removed (first spelling wins
/// its place), at most [`MAX_TAGS`].
pub fn normalise_list(raw: &[String]) -> Result<Vec<String>, FieldError> {
    if raw.len() > MAX_TAGS {
        return Err(FieldError::new(
            "tags",
            format!("a task has at most {MAX_TAGS} tags, got {}", raw.len()),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, t) in raw.iter().enumerate() {
        let tag = normalise(&format!("tags[{i}]"), t)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_dedups() {
        let raw = vec![" Work ".into(), "WORK".into(), "home/garden".into()];
        assert_eq!(normalise_list(&raw).unwrap(), vec!["work", "home/garden"]);
    }

    #[test]
    fn rejects_bad_tags_naming_the_index() {
        let e = normalise_list(&["ok".into(), "two words".into()]).unwrap_err();
        assert_eq!(e.field, "tags[1]");
        let e = normalise_list(&vec!["x".to_string(); 51]).unwrap_err();
        assert_eq!(e.field, "tags");
        assert!(normalise("tags[0]", "  ").is_err());
    }

    #[test]
    fn letters_and_numbers_of_any_script_but_no_symbols() {
        assert_eq!(normalise("t", " Éte-٣ ").unwrap(), "éte-٣");
        assert_eq!(normalise("t", "İ").unwrap(), "i\u{307}");
        for bad in ["Ⓐ", "a\u{345}", "a b", "#x"] {
            assert!(normalise("t", bad).is_err(), "{bad}");
        }
    }
}
