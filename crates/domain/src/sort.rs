//! Sort orders for task lists: `sort=due,-priority` — keys separated by
//! commas, `-` for descending. Parsed here, compiled to SQL by storage.

use std::fmt;

use crate::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Due,
    Priority,
    Created,
    Updated,
    Title,
    Urgency,
    /// Full-text relevance, best match first; needs search words in `q`.
    Relevance,
}

impl SortKey {
    const ALL: [(SortKey, &'static str); 7] = [
        (SortKey::Due, "due"),
        (SortKey::Priority, "priority"),
        (SortKey::Created, "created"),
        (SortKey::Updated, "updated"),
        (SortKey::Title, "title"),
        (SortKey::Urgency, "urgency"),
        (SortKey::Relevance, "relevance"),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, s)| s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortField {
    pub key: SortKey,
    pub descending: bool,
}

/// Parse a sort specification; at most 6 keys, each at most once.
pub fn parse_sort(spec: &str) -> Result<Vec<SortField>, FieldError> {
    let mut out: Vec<SortField> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (descending, name) = match part.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        let key = SortKey::ALL
            .iter()
            .find(|(_, s)| s.eq_ignore_ascii_case(name))
            .map(|(k, _)| *k)
            .ok_or_else(|| {
                FieldError::new(
                    "sort",
                    format!(
                        "unknown sort key '{name}'; use due, priority, created, updated, title, \
                         urgency or relevance, with - for descending (e.g. sort=due,-priority)"
                    ),
                )
            })?;
        if out.iter().any(|f| f.key == key) {
            return Err(FieldError::new(
                "sort",
                format!("sort key '{name}' appears twice"),
            ));
        }
        out.push(SortField { key, descending });
    }
    if out.len() > 6 {
        return Err(FieldError::new("sort", "at most 6 sort keys"));
    }
    Ok(out)
}

impl fmt::Display for SortField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.descending {
            f.write_str("-")?;
        }
        f.write_str(self.key.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_and_directions() {
        let s = parse_sort("due,-priority, +title").unwrap();
        assert_eq!(s.len(), 3);
        assert!(s[1].descending && s[1].key == SortKey::Priority);
        assert_eq!(s[2].to_string(), "title");
        assert!(parse_sort("colour").unwrap_err().message.contains("colour"));
        assert!(parse_sort("due,-due").is_err());
        assert!(parse_sort("").unwrap().is_empty());
    }
}
