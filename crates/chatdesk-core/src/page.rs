//! Opaque pagination cursors for session lists: base64url of `<micros>.<uuid>`.

use crate::domain::{Invalid, SessionId};
use crate::store::SessionCursor;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::DateTime;

pub fn encode(c: &SessionCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}.{}",
        c.last_activity_at.timestamp_micros(),
        c.id
    ))
}

pub fn decode(raw: &str) -> Result<SessionCursor, Invalid> {
    let bad = || {
        Invalid::new(
            "cursor",
            "invalid_cursor",
            "cursor is not one this server issued",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (micros, id) = text.split_once('.').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    Ok(SessionCursor {
        last_activity_at: DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
        id: SessionId::parse(id).map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let c = SessionCursor {
            last_activity_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: SessionId::generate(),
        };
        assert_eq!(decode(&encode(&c)).unwrap(), c);
        assert_eq!(decode("!!").unwrap_err().code, "invalid_cursor");
        assert!(decode(&URL_SAFE_NO_PAD.encode("12.nope")).is_err());
    }
}
