//! A conversation written out for people: plain text or a standalone HTML page.

use super::views::{MessageView, Names};
use chatdesk_core::domain::{Message, Session};
use std::fmt::Write;

/// Who wrote a message, as a reader of the transcript sees it.
fn author(m: &MessageView) -> String {
    match (&m.sender_name, m.sender_type) {
        (Some(name), _) => name.clone(),
        (None, "system") => "chatdesk".to_owned(),
        (None, kind) => format!("{kind} {}", m.sender.id),
    }
}

fn heading(s: &Session) -> String {
    let topic = s.topic.as_ref().map_or("", |t| t.as_str());
    let ended = s
        .ended_at
        .map_or_else(String::new, |t| format!(", ended {}", t.to_rfc3339()));
    format!(
        "Conversation {} {topic}\nStarted {}{ended}",
        s.number,
        s.started_at.to_rfc3339()
    )
}

pub fn text(s: &Session, messages: Vec<Message>, names: &Names) -> String {
    let mut out = heading(s);
    out.push_str("\n\n");
    for m in messages.into_iter().map(|m| names.message(m)) {
        let _ = writeln!(
            out,
            "[{}] {}: {}",
            m.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            author(&m),
            m.content
        );
    }
    out
}

/// The page's only style; its policy allows this text and nothing else ([`policy`]).
const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:48rem;margin:2rem auto;\
     color:#1d2330}li{margin:.4rem 0;list-style:none}time,.who{color:#5b6475;font-size:.85rem}";

/// The HTML page's Content-Security-Policy: nothing may load or run; its own style, by hash.
pub fn policy() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
        format!("default-src 'none'; style-src 'sha256-{hash}'")
    })
}

pub fn html(s: &Session, messages: Vec<Message>, names: &Names) -> String {
    let title = escape(&heading(s).replace('\n', " · "));
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>{STYLE}</style></head><body><h1>{title}</h1><ol>"
    );
    for m in messages.into_iter().map(|m| names.message(m)) {
        let _ = write!(
            out,
            "<li><time datetime=\"{at}\">{shown}</time> <span class=\"who\">{who}</span><br>{text}</li>",
            at = m.created_at.to_rfc3339(),
            shown = m.created_at.format("%Y-%m-%d %H:%M UTC"),
            who = escape(&author(&m)),
            text = escape(&m.content).replace('\n', "<br>"),
        );
    }
    out.push_str("</ol></body></html>\n");
    out
}

fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
