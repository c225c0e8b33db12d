//! Email against a real SMTP server (aiosmtpd, which `scripts/test` installs into
//! `target/smtp-venv`): a transcript to the conversation's contact, the offline form to the
//! tenant's address.

use crate::harness::{assert_error, run_with, Kind, LocalServer, TestApp};
use chatdesk_core::identity::Role;
use reqwest::StatusCode;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// An SMTP server that keeps what it is sent in a Maildir.
struct SmtpServer {
    server: LocalServer,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    fn start() -> Self {
        let maildir = tempfile::tempdir().unwrap();
        let mailbox = maildir.path().join("box");
        let server = LocalServer::start(
            "smtp-venv/bin/python",
            "CHATDESK_TEST_SMTP_PYTHON",
            |python, port| {
                let mut c = Command::new(python);
                c.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
                    .args(["-c", "aiosmtpd.handlers.Mailbox"])
                    .arg(mailbox);
                c
            },
        );
        Self { server, maildir }
    }

    /// Every message received so far, as raw text, waiting up to 10 s for `n` of them.
    async fn received(&self, n: usize) -> Vec<String> {
        let new = self.maildir.path().join("box").join("new");
        let started = Instant::now();
        loop {
            let got = read_all(&new);
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "only {} of {n} emails arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Ann, ann@example.com, as the session's contact.
async fn give_contact(app: &TestApp, who: &crate::harness::As, id: &str) {
    let (status, body) = app
        .call(
            reqwest::Method::PUT,
            &format!("/v1/sessions/{id}/contact"),
            who,
            Some(json!({"name": "Ann", "email": "ann@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn read_all(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_and_offline_forms_are_emailed() {
    let smtp = SmtpServer::start();
    let url = format!("smtp://127.0.0.1:{}", smtp.server.port);
    run_with(
        Kind::Sqlite,
        move |s| {
            s.smtp_url = Some(url);
            s.mail_from = "Shop desk <desk@shop.example>".into();
        },
        |app: TestApp| async move {
            let ann = app.customer("ann-mail");
            let agent = app.agent("ag-mail", "shop");
            let id = app.open(&ann, json!({"business_id": "shop"})).await;
            let email = format!("/v1/sessions/{id}/transcript/email");
            assert_error(&app.post(&email, &ann, json!({})).await, StatusCode::CONFLICT, "no_contact");
            give_contact(&app, &ann, &id).await;
            app.send(&ann, &id, "Where is my parcel?").await;
            app.send(&agent, &id, "It ships today.").await;
            let (status, sent) = app.post(&email, &ann, json!({})).await;
            assert_eq!(status, StatusCode::OK, "{sent}");
            assert_eq!(sent["sent_to"], "ann@example.com");
            assert_error(
                &app.post(&email, &app.customer("nosy-mail"), json!({})).await,
                StatusCode::NOT_FOUND,
                "not_found",
            );
            let got = smtp.received(1).await;
            let mail = &got[0];
            assert!(mail.contains("To: ann@example.com"), "{mail}");
            assert!(mail.contains("From: \"Shop desk\" <desk@shop.example>") || mail.contains("From: Shop desk <desk@shop.example>"), "{mail}");
            assert!(mail.contains("Where is my parcel?") && mail.contains("It ships today."), "{mail}");
            assert!(mail.contains("text/html"), "an HTML part too");
            // The per-session allowance (3) is spent, and said so.
            app.post(&email, &ann, json!({})).await;
            app.post(&email, &ann, json!({})).await;
            assert_error(&app.post(&email, &ann, json!({})).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited");

            let admin = app.token("boss", Role::Admin, Some("shop"));
            let hours = json!({"hours": {"time_zone": "UTC", "weekly": {}, "offline_email": "desk@shop.example"}});
            let (status, body) = app
                .call(reqwest::Method::PUT, "/v1/business-hours", &admin, Some(hours))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, left) = app
                .post(
                    "/v1/offline-messages",
                    &app.visitor(),
                    json!({"business_id": "shop", "name": "Vera", "email": "vera@example.com", "message": "Call me back"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{left}");
            let got = smtp.received(4).await;
            let form = got
                .iter()
                .find(|m| m.contains("To: desk@shop.example"))
                .expect("the offline form was emailed to the tenant");
            assert!(form.contains("Vera <vera@example.com>") && form.contains("Call me back"), "{form}");
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_nothing_is_emailed() {
    run_with(
        Kind::Sqlite,
        |_| {},
        |app: TestApp| async move {
            let ann = app.customer("ann-nomail");
            let id = app.open(&ann, json!({})).await;
            give_contact(&app, &ann, &id).await;
            assert_error(
                &app.post(
                    &format!("/v1/sessions/{id}/transcript/email"),
                    &ann,
                    json!({}),
                )
                .await,
                StatusCode::SERVICE_UNAVAILABLE,
                "mail_not_configured",
            );
        },
    )
    .await;
}
