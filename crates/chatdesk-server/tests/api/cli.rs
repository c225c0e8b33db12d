//! The `chatdesk` binary: migrate, user add, token, api-key add, and serve with a graceful stop.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn chatdesk(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chatdesk"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("CHATDESK_DATABASE_URL", db);
    c
}

fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        c,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn commands_work_against_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    assert!(ok(chatdesk(&db).arg("migrate")).contains("migrations applied"));
    let added = ok(chatdesk(&db).args([
        "user",
        "add",
        "--email",
        "agent@example.com",
        "--password",
        "password1",
        "--role",
        "agent",
    ]));
    assert!(added.contains("created agent account"), "{added}");
    let dup = chatdesk(&db)
        .args([
            "user",
            "add",
            "--email",
            "agent@example.com",
            "--password",
            "password1",
        ])
        .output()
        .unwrap();
    assert!(
        !dup.status.success(),
        "a second account with the same email is refused"
    );
    // Where no secret and no database are found, a token would be refused by any server.
    let nowhere = format!("sqlite://{}", dir.path().join("missing.db").display());
    let refused = chatdesk(&nowhere)
        .args(["token", "--sub", "a"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no database at"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        !dir.path().join("missing.db").exists(),
        "nothing was created"
    );
    let bad_role = chatdesk(&db)
        .args(["token", "--sub", "a", "--role", "superuser"])
        .output()
        .unwrap();
    assert!(!bad_role.status.success());
    let key = ok(chatdesk(&db).args(["api-key", "add", "--name", "crm", "--business", "shop"]));
    assert!(key.trim().starts_with("cdk_"));
    let spare = ok(chatdesk(&db).args(["api-key", "add", "--name", "spare"]));
    let listed = ok(chatdesk(&db).args(["api-key", "list"]));
    assert!(
        listed.contains("\tshop\tcrm\t") && listed.contains("\tspare\t"),
        "{listed}"
    );
    assert!(
        !listed.contains(key.trim()),
        "secrets are never shown again"
    );
    let spare_id = listed
        .lines()
        .find(|l| l.contains("\tspare\t"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();
    ok(chatdesk(&db).args(["api-key", "revoke", &spare_id]));
    assert!(!ok(chatdesk(&db).args(["api-key", "list"])).contains("spare"));
    assert!(!chatdesk(&db)
        .args(["api-key", "revoke", &spare_id])
        .output()
        .unwrap()
        .status
        .success());

    // No secret configured: token and serve agree through the database's generated secret.
    let token = ok(chatdesk(&db).args([
        "token", "--sub", "alice", "--role", "customer", "--ttl", "10m",
    ]))
    .trim()
    .to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");

    let mut server = chatdesk(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let client = http1::Client::new(&addr);
    let (status, body) = client.post("/v1/sessions", &token, r#"{"topic":"from the CLI test"}"#);
    assert_eq!(status, 201, "{body}");
    let (status, _) = client.post(
        "/v1/sessions",
        &key.trim().replace('\n', ""),
        r#"{"business_id":"shop","user_id":"u1"}"#,
    );
    assert_eq!(status, 201);
    let (status, _) = client.post("/v1/sessions", spare.trim(), "{}");
    assert_eq!(status, 401, "a revoked key is refused");

    // SIGTERM: drains and exits 0.
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "serve exits cleanly on SIGTERM: {status:?}"
    );
}

/// What failed and where, in the words a person needs.
#[test]
fn start_up_failures_say_what_and_where() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = chatdesk("sqlite::memory:")
        .args(["serve", "--listen", &addr])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    // A PostgreSQL nobody answers at.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let out = chatdesk(&format!("postgres://postgres@127.0.0.1:{port}/nowhere"))
        .arg("migrate")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{port}/nowhere"
        )),
        "{err}"
    );
    // Several nodes on one SQLite file.
    let out = chatdesk("sqlite::memory:")
        .env("CHATDESK_BUS_URL", "redis://127.0.0.1:6379")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("a SQLite file belongs to one node"), "{err}");
}

/// A tiny HTTP/1.1 client over std, so this test needs no async runtime.
mod http1 {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    pub struct Client {
        addr: String,
    }

    impl Client {
        pub fn new(addr: &str) -> Self {
            Self {
                addr: addr.to_owned(),
            }
        }

        pub fn post(&self, path: &str, bearer: &str, body: &str) -> (u16, String) {
            let mut s = TcpStream::connect(&self.addr).unwrap();
            write!(
                s,
                "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                self.addr,
                body.len()
            )
            .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
            (status, out)
        }
    }
}
