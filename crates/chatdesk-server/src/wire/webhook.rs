//! A webhook delivery's `data`: the same views as `/v1` (snake_case).

use super::views::{MessageView, NoteView, RatingView, SessionView};
use chatdesk_core::files::Links;
use chatdesk_core::service::Subject;
use serde_json::{json, Value};

/// What a delivery says about its session and, for `message.created`, its message; for
/// `note.created`, its note, marked private.
pub fn data(subject: &Subject, links: &Links) -> Value {
    match subject {
        Subject::Session(s) => json!({"session": SessionView::from(s)}),
        Subject::Message(s, m) => {
            json!({"message": MessageView::new(m.clone(), links), "session_number": s.number})
        }
        Subject::Rated(s, r) => {
            json!({"session": SessionView::from(s), "rating": RatingView::from(r)})
        }
        Subject::Note(s, n) => {
            json!({"note": NoteView::from(n), "session_number": s.number, "private": true})
        }
    }
}
