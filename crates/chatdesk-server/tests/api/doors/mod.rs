//! Each seed document's examples, replayed against its door.

mod activity;
mod assistant;
mod livechat;
mod storefront;
mod support;

/// Assert a NestJS-style error body (seeds 000, 001, 004).
#[track_caller]
pub fn assert_nest_error(
    got: &(reqwest::StatusCode, serde_json::Value),
    status: reqwest::StatusCode,
    code: &str,
) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["statusCode"], status.as_u16(), "{}", got.1);
    assert_eq!(
        got.1["error"],
        status.canonical_reason().unwrap(),
        "{}",
        got.1
    );
    assert!(got.1["message"].is_string(), "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
}
