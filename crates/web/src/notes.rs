//! A task's notes are Markdown, shown as HTML that can neither run nor
//! load anything: HTML written in the notes is shown as text, images become
//! links, and links keep only web, mail and relative addresses.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// `markdown` as safe HTML.
pub fn to_html(markdown: &str) -> String {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_TABLES;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })
        | Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// `url` if it is a web, mail or relative address; else a link to nowhere.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let scheme = url
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| !s.contains(['/', '?', '#']));
    match scheme {
        None => url,
        Some(s)
            if ["http", "https", "mailto"]
                .iter()
                .any(|k| s.eq_ignore_ascii_case(k)) =>
        {
            url
        }
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_formatted() {
        assert_eq!(
            to_html("**milk** and *eggs*"),
            "<p><strong>milk</strong> and <em>eggs</em></p>\n"
        );
        assert!(to_html("- [x] done").contains("checkbox"));
        assert!(
            to_html("[site](https://example.com/a?b)")
                .contains(r#"href="https://example.com/a?b""#)
        );
        assert!(to_html("[here](/tasks/x)").contains(r#"href="/tasks/x""#));
    }

    #[test]
    fn nothing_in_notes_runs_or_loads() {
        for (notes, never) in [
            ("<script>alert(1)</script>", "<script"),
            ("hi <img src=x onerror=alert(1)>", "<img"),
            ("[x](javascript:alert(1))", "javascript:"),
            ("[x](JaVaScRiPt:alert(1))", "alert(1)"),
            ("[x](data:text/html,<script>)", "data:"),
            ("![pic](https://tracker.example/p.png)", "<img"),
            ("<a href=\"javascript:x\">a</a>", "<a href=\"javascript"),
        ] {
            let html = to_html(notes);
            assert!(!html.contains(never), "{notes:?} gave {html}");
        }
    }
}
