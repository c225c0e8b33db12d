//! Every parser of client text, fed arbitrary input: it answers `Ok` or an `Invalid` with a
//! stable code, never panics, and what it accepts holds no control character it refuses.

use super::*;
use proptest::prelude::*;

/// Text that reaches the edges: any Unicode, control characters, long runs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f a-z\\u{85}\\u{2028}\\u{feff}]{0,40}",
        ".{0,300}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(raw in text()) {
        let _ = Content::parse(&raw, 100);
        let _ = Email::parse(&raw);
        let _ = Phone::parse(&raw);
        let _ = SearchQuery::parse(&raw);
        let _ = Priority::parse(&raw);
        let _ = SessionStatus::parse(&raw);
        let _ = ActivityKind::parse(&raw);
        let _ = Presence::parse(&raw);
        let _ = WebhookEvent::parse(&raw);
        let _ = WebhookUrl::parse(&raw);
        let _ = SessionId::parse(&raw);
        let _ = VisitorId::parse(&raw);
        let _ = Party::from_key(&raw);
    }

    #[test]
    fn accepted_lines_are_trimmed_bounded_and_clean(raw in text()) {
        for (parsed, max) in [
            (Topic::parse(&raw).map(|t| t.as_str().to_owned()), Topic::MAX_CHARS),
            (UserId::parse(&raw).map(|t| t.as_str().to_owned()), UserId::MAX_CHARS),
            (BusinessId::parse(&raw).map(|t| t.as_str().to_owned()), BusinessId::MAX_CHARS),
            (ClientMsgId::parse(&raw).map(|t| t.as_str().to_owned()), ClientMsgId::MAX_CHARS),
        ] {
            match parsed {
                Ok(v) => {
                    prop_assert!(!v.is_empty() && v.chars().count() <= max);
                    prop_assert_eq!(v.trim(), v.as_str());
                    prop_assert!(!v.chars().any(char::is_control));
                }
                Err(e) => prop_assert!(!e.code.is_empty()),
            }
        }
    }

    #[test]
    fn accepted_content_holds_no_nul(raw in text()) {
        if let Ok(c) = Content::parse(&raw, 200) {
            prop_assert!(!c.as_str().contains('\0'));
            prop_assert!(!c.as_str().trim().is_empty());
        }
    }
}
