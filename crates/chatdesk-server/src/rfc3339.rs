//! Timestamps written exactly as chrono's serde writes a `DateTime<Utc>`
//! (`2026-11-21T15:45:10.123456Z`: a fraction of 0, 3, 6 or 9 digits, as few as hold the
//! value), but into a buffer on the stack. chrono formats through `fmt` field by field,
//! which showed in the profile of a page of messages. Used on the views that
//! are rendered per message and per session; the output is byte for byte chrono's (see the
//! test), so any other field may keep chrono's own.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// `#[serde(serialize_with = "crate::rfc3339::serialize")]`
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match write(t, &mut buf) {
        Some(len) => s.serialize_str(std::str::from_utf8(&buf[..len]).expect("ASCII digits")),
        // Years outside 0..=9999 and leap seconds: chrono's own format.
        None => s.collect_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
    }
}

/// `#[serde(serialize_with = "crate::rfc3339::serialize_opt")]`
pub fn serialize_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

/// The text's length in `buf`, or `None` when this fast path does not apply.
fn write(t: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
    // The fields from the stored UTC date and time: each accessor of a `DateTime` first
    // works out its local date and time (adding the offset, zero here), ~100 instructions
    // every time.
    let t = t.naive_utc();
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    buf[..20].copy_from_slice(b"0000-00-00T00:00:00.");
    digits(&mut buf[0..4], year);
    digits(&mut buf[5..7], t.month());
    digits(&mut buf[8..10], t.day());
    digits(&mut buf[11..13], t.hour());
    digits(&mut buf[14..16], t.minute());
    digits(&mut buf[17..19], t.second());
    // After "ss." (20 bytes): as few of 3, 6 or 9 digits as hold the fraction.
    let (fraction, width) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    let end = if width == 0 { 19 } else { 20 + width };
    digits(&mut buf[20..20 + width], fraction);
    buf[end] = b'Z';
    Some(end + 1)
}

/// `value` in decimal, zero-padded to fill `out`.
fn digits(out: &mut [u8], mut value: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[derive(serde::Serialize)]
    struct Ours(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    fn same_as_chrono(t: DateTime<Utc>) {
        let chrono = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::to_string(&Ours(t)).unwrap(), chrono, "{t:?}");
    }

    #[test]
    fn byte_for_byte_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2026, 11, 21, 9, 5, 7).unwrap();
        for nanos in [
            0,
            1,
            999,
            1_000,
            123_000,
            123_456_000,
            123_456_789,
            100_000_000,
            999_999_999,
        ] {
            same_as_chrono(base + chrono::Duration::nanoseconds(nanos));
        }
        for t in [
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            Utc::now(),
        ] {
            same_as_chrono(t);
        }
        // Every microsecond-precision time the stores hand back, over a spread of values.
        let mut t = base;
        for step in 0..10_000i64 {
            t += chrono::Duration::microseconds(step * 7_919 + 1);
            same_as_chrono(t);
        }
    }

    #[test]
    fn none_stays_null() {
        #[derive(serde::Serialize)]
        struct Maybe(#[serde(serialize_with = "serialize_opt")] Option<DateTime<Utc>>);
        assert_eq!(serde_json::to_string(&Maybe(None)).unwrap(), "null");
        let t = Utc::now();
        assert_eq!(
            serde_json::to_string(&Maybe(Some(t))).unwrap(),
            serde_json::to_string(&t).unwrap()
        );
    }
}
