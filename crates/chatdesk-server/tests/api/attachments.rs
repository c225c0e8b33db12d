//! Attachments over HTTP: uploaded, sniffed, sent with a message, fetched through signed
//! links by the people of the conversation only, limited, and removed after a deleted
//! session's retention; and the same against a real S3-compatible server (moto).

use crate::harness::{
    assert_error, on_both_stores, run_with, split, As, Kind, LocalServer, TestApp,
};
use crate::webhooks::{quick_retries, shop_receiver};
use chatdesk_server::Settings;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::Cursor;
use std::time::{Duration, Instant};

on_both_stores!(@with small_files; files_go_with_messages_to_the_conversation_only);
on_both_stores!(@with small_files; uploads_are_checked_before_they_are_kept);
on_both_stores!(@with quick_purge; a_deleted_sessions_files_are_removed_after_retention);

fn small_files(s: &mut Settings) {
    quick_retries(s);
    s.attachments.max_bytes = 200_000;
    s.attachments.quota_bytes_per_tenant = 300_000;
    s.limits.uploads_per_session = chatdesk_server::limits::Rate::new(7, 60.0);
}

fn quick_purge(s: &mut Settings) {
    s.attachments.retention_secs = 0;
    s.attachments.purge_interval_secs = 1;
}

/// A `width`×`height` PNG.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([20, 120, 200]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

pub(crate) async fn upload(
    app: &TestApp,
    who: &As,
    session: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    split(post_form(app, who, session, form).await).await
}

async fn post_message(app: &TestApp, who: &As, session: &str, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/v1/sessions/{session}/messages"), who, body)
        .await
}

async fn post_form(app: &TestApp, who: &As, session: &str, form: Form) -> reqwest::Response {
    app.request(
        reqwest::Method::POST,
        &format!("/v1/sessions/{session}/attachments"),
        who,
    )
    .multipart(form)
    .send()
    .await
    .unwrap()
}

/// A link's file: status, content type and bytes, fetched with no credentials.
async fn fetch(app: &TestApp, link: &str) -> (StatusCode, String, Vec<u8>) {
    let r = app.client.get(app.url(link)).send().await.unwrap();
    let status = r.status();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, r.bytes().await.unwrap().to_vec())
}

async fn files_go_with_messages_to_the_conversation_only(app: TestApp) {
    let (receiver, _server) = shop_receiver(&app, "message.created").await;
    let ann = app.customer("ann");
    let agent = app.agent("ag1", "shop");
    let id = app.open(&ann, json!({"business_id": "shop"})).await;
    let photo = png(600, 300);
    // The name is cut to its last segment; the type is what the bytes say, not the name.
    let (status, up) = upload(&app, &ann, &id, "../../photo.exe", photo.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(
        (
            up["name"].as_str(),
            up["content_type"].as_str(),
            up["size"].as_u64()
        ),
        (
            Some("photo.exe"),
            Some("image/png"),
            Some(photo.len() as u64)
        )
    );
    let file_id = up["id"].as_str().unwrap().to_owned();

    let (status, sent) = post_message(
        &app,
        &ann,
        &id,
        json!({"content": "", "attachment_ids": [file_id]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["content"], "");
    assert_eq!(sent["attachments"][0]["id"], file_id.as_str());

    // The agent reads it in the history and fetches it with the link, no credentials.
    let (_, page) = app
        .get(&format!("/v1/sessions/{id}/messages"), &agent)
        .await;
    let shown = &page["messages"][0]["attachments"][0];
    let (status, kind, bytes) = fetch(&app, shown["url"].as_str().unwrap()).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "image/png"));
    assert_eq!(bytes, photo, "the bytes as uploaded");
    let (status, kind, thumb) = fetch(&app, shown["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "image/png"));
    let small = image::load_from_memory(&thumb).unwrap();
    assert_eq!((small.width(), small.height()), (256, 128));
    let r = app
        .client
        .get(app.url(shown["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));

    // A link is good only as signed and until it expires.
    let url = shown["url"].as_str().unwrap();
    let forged = format!("{}0", url.trim_end_matches(|c: char| c.is_ascii_hexdigit()));
    assert_eq!(fetch(&app, &forged).await.0, StatusCode::FORBIDDEN);
    let (path, query) = url.split_once("?expires=").unwrap();
    let (expires, sig) = query.split_once('&').unwrap();
    let later: i64 = expires.parse::<i64>().unwrap() + 3600;
    let extended = format!("{path}?expires={later}&{sig}");
    assert_eq!(fetch(&app, &extended).await.0, StatusCode::FORBIDDEN);
    let past = format!("{path}?expires=1&{sig}");
    assert_eq!(fetch(&app, &past).await.0, StatusCode::FORBIDDEN);

    // Someone else's conversation's file is not theirs to see or send.
    let bob = app.customer("bob");
    assert_error(
        &app.get(&format!("/v1/attachments/{file_id}"), &bob).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, fresh) = app.get(&format!("/v1/attachments/{file_id}"), &agent).await;
    assert_eq!(fresh["name"], "photo.exe");
    let bobs = app.open(&bob, json!({"business_id": "shop"})).await;
    assert_error(
        &post_message(
            &app,
            &bob,
            &bobs,
            json!({"content": "mine now", "attachment_ids": [file_id]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "unknown_attachment",
    );
    // Only its uploader sends it, even in its own conversation.
    assert_error(
        &post_message(
            &app,
            &agent,
            &id,
            json!({"content": "forward", "attachment_ids": [file_id]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "unknown_attachment",
    );
    assert_error(
        &post_message(
            &app,
            &ann,
            &id,
            json!({"content": "", "attachment_ids": []}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "empty_content",
    );
    assert_error(
        &post_message(&app, &ann, &id, json!({"attachment_ids": ["not-a-uuid"]})).await,
        StatusCode::BAD_REQUEST,
        "invalid_attachment_id",
    );

    // The webhook's message carries the file too.
    let got = receiver.wait_for(1).await;
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    let hooked = &body["data"]["message"]["attachments"][0];
    assert_eq!(hooked["id"], file_id.as_str());
    assert_eq!(
        fetch(&app, hooked["url"].as_str().unwrap()).await.0,
        StatusCode::OK
    );
}

async fn uploads_are_checked_before_they_are_kept(app: TestApp) {
    let ann = app.customer("ann");
    let id = app.open(&ann, json!({"business_id": "shop"})).await;
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    assert_error(
        &upload(&app, &ann, &id, "cat.png", exe).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_type",
    );
    assert_error(
        &upload(&app, &ann, &id, "big.txt", vec![b'a'; 200_001]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
    );
    assert_error(
        &upload(&app, &ann, &id, "empty.txt", Vec::new()).await,
        StatusCode::BAD_REQUEST,
        "empty_file",
    );
    let no_file = Form::new().text("note", "no file here");
    let r = post_form(&app, &ann, &id, no_file).await;
    assert_error(&split(r).await, StatusCode::BAD_REQUEST, "missing_file");
    let stranger = app.customer("eve");
    assert_error(
        &upload(&app, &stranger, &id, "a.txt", b"hello".to_vec()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The tenant's quota (300,000 bytes) holds two of these, not three.
    for _ in 0..2 {
        let (status, body) = upload(&app, &ann, &id, "notes.txt", vec![b'b'; 150_000]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let other = app
        .open(&ann, json!({"business_id": "shop", "force_new": true}))
        .await;
    assert_error(
        &upload(&app, &ann, &other, "more.txt", vec![b'c'; 10]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
    );
    // A closed conversation takes no more files.
    let (status, _) = app
        .post(&format!("/v1/sessions/{id}/end"), &ann, json!({}))
        .await;
    assert!(status.is_success());
    assert_error(
        &upload(&app, &ann, &id, "late.txt", b"late".to_vec()).await,
        StatusCode::CONFLICT,
        "session_closed",
    );
    // Seven uploads into one session a minute, refused ones included; the eighth waits.
    let (status, body) = upload(&app, &ann, &id, "late.txt", b"late".to_vec()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let again = Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("x"));
    let r = post_form(&app, &ann, &id, again).await;
    assert!(r.headers().contains_key("retry-after"));
}

async fn a_deleted_sessions_files_are_removed_after_retention(app: TestApp) {
    let service = app.api_key("shop").await;
    let id = app
        .open(&service, json!({"business_id": "shop", "user_id": "ann"}))
        .await;
    let (status, up) = upload(&app, &service, &id, "photo.png", png(40, 40)).await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    let url = up["url"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&app, &url).await.0, StatusCode::OK);
    let (status, _) = app.delete(&format!("/v1/sessions/{id}"), &service).await;
    assert!(status.is_success());
    // Not served once its session is deleted; its bytes go with the next sweep.
    assert_eq!(fetch(&app, &url).await.0, StatusCode::NOT_FOUND);
    let dir = app.settings.attachments.dir.clone().unwrap();
    let started = Instant::now();
    while count_files(&dir) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the sweep removed the files"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type().unwrap().is_dir() {
            true => count_files(&e.path()),
            false => 1,
        })
        .sum()
}

/// moto's S3 server (which `scripts/test` installs into `target/s3-venv`) on a free port.
fn s3_server() -> (LocalServer, String) {
    let server = LocalServer::start(
        "s3-venv/bin/moto_server",
        "CHATDESK_TEST_S3_SERVER",
        |moto, port| {
            let mut c = std::process::Command::new(moto);
            c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            c
        },
    );
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    (server, endpoint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_kept_in_s3_compatible_storage() {
    let (_s3, endpoint) = s3_server();
    let client = reqwest::Client::new();
    let made = client
        .put(format!("{endpoint}/chatdesk-files"))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "bucket created");
    let listing = format!("{endpoint}/chatdesk-files?list-type=2");
    let configure = move |s: &mut Settings| {
        s.attachments.s3_bucket = Some("chatdesk-files".into());
        s.attachments.s3_endpoint = Some(endpoint);
        s.attachments.s3_allow_http = true;
        s.attachments.s3_access_key_id = Some("test".into());
        s.attachments.s3_secret_access_key = Some("test".into());
    };
    run_with(Kind::Sqlite, configure, |app| async move {
        let ann = app.customer("ann");
        let id = app.open(&ann, json!({"business_id": "shop"})).await;
        let photo = png(300, 300);
        let (status, up) = upload(&app, &ann, &id, "photo.png", photo.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{up}");
        let (status, _, bytes) = fetch(&app, up["url"].as_str().unwrap()).await;
        assert_eq!((status, bytes), (StatusCode::OK, photo));
        let (status, _, thumb) = fetch(&app, up["thumbnail_url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(image::load_from_memory(&thumb).is_ok());
        // The bucket holds both, under the tenant and the session.
        let listed = client
            .get(&listing)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let file_id = up["id"].as_str().unwrap();
        assert!(
            listed.contains(&format!("<Key>shop/{id}/{file_id}</Key>")),
            "{listed}"
        );
        assert!(listed.contains(&format!("<Key>shop/{id}/{file_id}.thumb</Key>")));
        assert!(
            app.settings
                .attachments
                .dir
                .as_ref()
                .is_none_or(|d| count_files(d) == 0),
            "nothing on local disk"
        );
    })
    .await;
}
