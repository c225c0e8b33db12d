//! The agent console and the visitor widget, served by the binary and driven in Debian's
//! Chromium.

use crate::harness::{run, run_with, As, Kind, TestApp};
use crate::realtime::{node, token};
use chatdesk_core::identity::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_a_strict_policy() {
    run(Kind::Sqlite, |app: TestApp| async move {
        let page = app.client.get(app.url("/console/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let policy = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(policy.contains("default-src 'self'"), "{policy}");
        assert!(page.text().await.unwrap().contains("console.js"));
        for (path, kind) in [
            ("/console/console.js", "text/javascript"),
            ("/console/console.css", "text/css"),
        ] {
            let r = app.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            assert!(r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind));
        }
        let unknown = app
            .client
            .get(app.url("/console/secret.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 404);
        // Revalidation costs a 304, not the file again.
        for path in ["/console/console.js", "/widget.js"] {
            let r = app.client.get(app.url(path)).send().await.unwrap();
            let tag = r.headers()["etag"].clone();
            let again = app
                .client
                .get(app.url(path))
                .header("if-none-match", tag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304, "{path}");
        }
        let bare = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(app.url("/console"))
            .send()
            .await
            .unwrap();
        assert_eq!(bare.headers()["location"], "/console/");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answers_a_visitor_in_the_browser() {
    run(Kind::Sqlite, |app: TestApp| async move {
        app.account("agent@example.com", "agent").await;
        app.account("customer@example.com", "customer").await;
        let boss = app.token("boss", Role::Admin, None);
        let (status, _) = app
            .post("/v1/departments", &boss, json!({"name": "Billing"}))
            .await;
        assert!(status.is_success());
        let visitor = uuid::Uuid::new_v4().to_string();
        let id = app
            .open(
                &As::Visitor(visitor.clone()),
                json!({"topic": "Shoes do not fit"}),
            )
            .await;
        app.send(&As::Visitor(visitor.clone()), &id, "My shoes are too small")
            .await;
        let As::ApiKey(bot_key) = app.api_key("default").await else {
            unreachable!("an API key")
        };
        let screenshots = std::env::var("CHATDESK_SCREENSHOTS").unwrap_or_default();
        let report = node(
            &app,
            "console.mjs",
            &[
                ("AGENT_EMAIL", "agent@example.com".into()),
                ("CUSTOMER_EMAIL", "customer@example.com".into()),
                ("PASSWORD", "password".into()),
                ("VISITOR_ID", visitor),
                ("SESSION_ID", id),
                ("ADMIN_TOKEN", token(&app, "boss", Role::Admin, None)),
                ("BOT_KEY", bot_key),
                ("SCREENSHOTS", screenshots),
            ],
        )
        .await;
        assert_eq!(report["ok"], true, "{report}");
        println!("the console's first load: {}", report["first_load"]);
    })
    .await;
}

/// A free port for the shop's own page, which is served from another origin than the
/// server's (the widget tests tell the server to allow it).
fn shop_port() -> u16 {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    free.local_addr().unwrap().port()
}

fn shop_origin(port: u16) -> String {
    format!("http://localhost:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_chats_from_another_sites_page() {
    let host_port = shop_port();
    run_with(
        Kind::Sqlite,
        |s| s.cors_allowed_origins = vec![shop_origin(host_port)],
        |app: TestApp| async move {
            let agent = app
                .account_in("agent@shop.example", "agent", Some("shop"))
                .await;
            let admin = app.token("shop-admin", Role::Admin, Some("shop"));
            let (status, _) = app
                .post("/v1/departments", &admin, json!({"name": "Returns"}))
                .await;
            assert!(status.is_success());
            let screenshots = std::env::var("CHATDESK_SCREENSHOTS").unwrap_or_default();
            let report = node(
                &app,
                "widget.mjs",
                &[
                    ("HOST_PORT", host_port.to_string()),
                    ("AGENT_EMAIL", "agent@shop.example".into()),
                    ("PASSWORD", "password".into()),
                    (
                        "AGENT_TOKEN",
                        token(&app, &agent.to_string(), Role::Agent, Some("shop")),
                    ),
                    ("SCREENSHOTS", screenshots),
                ],
            )
            .await;
            assert_eq!(report["ok"], true, "{report}");
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_the_tenant_and_others_are_refused() {
    run(Kind::Sqlite, |app: TestApp| async move {
        app.account("admin@example.com", "admin").await;
        app.account("agent@example.com", "agent").await;
        let screenshots = std::env::var("CHATDESK_SCREENSHOTS").unwrap_or_default();
        let report = node(
            &app,
            "admin.mjs",
            &[
                ("ADMIN_EMAIL", "admin@example.com".into()),
                ("AGENT_EMAIL", "agent@example.com".into()),
                ("PASSWORD", "password".into()),
                ("ADMIN_TOKEN", token(&app, "boss", Role::Admin, None)),
                ("CUSTOMER_TOKEN", token(&app, "c1", Role::Customer, None)),
                ("SCREENSHOTS", screenshots),
            ],
        )
        .await;
        assert_eq!(report["ok"], true, "{report}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_hours_the_widget_takes_a_message() {
    let host_port = shop_port();
    run_with(
        Kind::Sqlite,
        |s| s.cors_allowed_origins = vec![shop_origin(host_port)],
        |app: TestApp| async move {
            let admin = app.token("shop-admin", Role::Admin, Some("shop"));
            let closed = json!({"hours": {"time_zone": "UTC", "weekly": {}, "away_message": "We answer from 9 to 5."}});
            let (status, body) = app
                .call(reqwest::Method::PUT, "/v1/business-hours", &admin, Some(closed))
                .await;
            assert!(status.is_success(), "{body}");
            let report = node(
                &app,
                "widget_offline.mjs",
                &[
                    ("HOST_PORT", host_port.to_string()),
                    ("AGENT_TOKEN", token(&app, "ag-shop", Role::Agent, Some("shop"))),
                ],
            )
            .await;
            assert_eq!(report["ok"], true, "{report}");
        },
    )
    .await;
}
