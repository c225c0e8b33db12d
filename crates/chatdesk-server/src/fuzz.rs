//! The parsers a stranger's bytes reach first, fed arbitrary input: Socket.IO event data, JSON
//! request bodies and the words we say about them, tokens, webhook networks. None may panic;
//! each answers a value or a refusal.

use crate::realtime::inbound;
use proptest::prelude::*;
use serde_json::Value;

/// Arbitrary JSON, nested a few levels, with the field names the events use.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        let key = prop_oneof![
            Just("conversationId".to_owned()),
            Just("sessionId".to_owned()),
            Just("content".to_owned()),
            Just("clientMsgId".to_owned()),
            Just("userId".to_owned()),
            Just("upToSeq".to_owned()),
            Just("sinceSeq".to_owned()),
            Just("isTyping".to_owned()),
            ".{0,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn socket_events_parse_or_refuse(v in json()) {
        let text = v.to_string();
        if let Ok(mut m) = serde_json::from_str::<inbound::SendMessage>(&text) {
            let _ = m.conversation();
        }
        if let Ok(mut m) = serde_json::from_str::<inbound::MarkAsRead>(&text) {
            let _ = m.conversation();
        }
        if let Ok(mut m) = serde_json::from_str::<inbound::Typing>(&text) {
            let _ = m.conversation();
        }
        let _ = serde_json::from_str::<inbound::JoinSession>(&text);
        let _ = serde_json::from_str::<inbound::LeaveSession>(&text);
    }

    #[test]
    fn raw_bytes_never_panic_a_parser(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<inbound::SendMessage>(&bytes);
        let _ = serde_json::from_slice::<inbound::JoinSession>(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = crate::auth::jwt::JwtKeys::new("secret").verify(&text);
        let _ = crate::webhooks::egress::Network::parse(&text);
        let _ = crate::webhooks::egress::EgressPolicy::default().refuses_literal(&text);
    }

    #[test]
    fn body_errors_are_described_whatever_serde_said(detail in ".{0,120}") {
        let text = format!("Failed to deserialize the JSON body into the target type: {detail}");
        let said = crate::error::body_mismatch(&text);
        prop_assert!(said.len() <= text.len() + 16);
    }

    #[test]
    fn cidr_networks_parse_or_refuse(addr in "[0-9a-f:.]{0,40}", prefix in 0u16..300) {
        let _ = crate::webhooks::egress::Network::parse(&format!("{addr}/{prefix}"));
    }
}
