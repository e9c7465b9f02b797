//! Tags: short labels, case-insensitive, normalised to one spelling so that
//! `Work`, ` work ` and `WORK` are the same tag. Created on first use.

use crate::FieldError;

pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_LEN: usize = 64;

/// Normalise one tag: trimmed, lower-case; letters, digits and `-_./` only.
pub fn normalise(field: &str, raw: &str) -> Result<String, FieldError> {
    let tag = raw.trim().to_lowercase();
    if tag.is_empty() {
        return Err(FieldError::new(field, "a tag cannot be empty"));
    }
    if tag.chars().count() > MAX_TAG_LEN {
        return Err(FieldError::new(
            field,
            format!("a tag has at most {MAX_TAG_LEN} characters"),
        ));
    }
    if let Some(bad) = tag
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
    {
        return Err(FieldError::new(
            field,
            format!("'{raw}' contains '{bad}'; tags use letters, digits and - _ . / only"),
        ));
    }
    Ok(tag)
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
}
