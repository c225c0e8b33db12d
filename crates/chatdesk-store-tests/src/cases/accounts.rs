//! Accounts, API keys and the server secret.

use super::*;

pub async fn accounts(store: Arc<dyn Store>) {
    let email = Email::parse("admin@example.com").unwrap();
    let new = NewAccount {
        email: email.clone(),
        password_hash: "$argon2id$fake".into(),
        role: Role::Admin,
        business_id: Some(tenant("shop")),
        name: Some("Ada".into()),
    };
    let a = store.create_account(new.clone()).await.unwrap();
    assert!(a.id > 0);
    let found = store.find_account_by_email(&email).await.unwrap().unwrap();
    assert_eq!(
        (found.id, found.role, found.name.as_deref()),
        (a.id, Role::Admin, Some("Ada"))
    );
    assert!(matches!(
        store.create_account(new).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store
        .find_account_by_email(&Email::parse("nobody@example.com").unwrap())
        .await
        .unwrap()
        .is_none());
}

pub async fn api_keys(store: Arc<dyn Store>) {
    let k = store
        .create_api_key("crm", &tenant("shop"), "abc123")
        .await
        .unwrap();
    let found = store.find_api_key("abc123").await.unwrap().unwrap();
    assert_eq!(
        (found.id, found.name.as_str(), found.business_id.as_str()),
        (k.id, "crm", "shop")
    );
    assert!(store.find_api_key("nope").await.unwrap().is_none());
    let other = store
        .create_api_key("bot", &tenant("other"), "def456")
        .await
        .unwrap();
    let names = |keys: Vec<ApiKey>| keys.into_iter().map(|k| k.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_api_keys(None).await.unwrap()),
        ["crm", "bot"]
    );
    assert_eq!(
        names(store.list_api_keys(Some(&tenant("shop"))).await.unwrap()),
        ["crm"]
    );
    // Only within its tenant, when one is named; once.
    assert!(!store
        .revoke_api_key(Some(&tenant("shop")), other.id, clock::now())
        .await
        .unwrap());
    assert!(store
        .revoke_api_key(Some(&tenant("shop")), k.id, clock::now())
        .await
        .unwrap());
    assert!(!store
        .revoke_api_key(None, k.id, clock::now())
        .await
        .unwrap());
    assert!(store.find_api_key("abc123").await.unwrap().is_none());
    assert_eq!(names(store.list_api_keys(None).await.unwrap()), ["bot"]);
}

pub async fn server_secret_is_created_once(store: Arc<dyn Store>) {
    let a = store
        .server_secret("jwt", &|| "first".to_owned())
        .await
        .unwrap();
    let b = store
        .server_secret("jwt", &|| "second".to_owned())
        .await
        .unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("first", "first"));
}

pub async fn read_cursors_and_accounts_by_id(store: Arc<dyn Store>) {
    let a = user("uri");
    let b = user("agent-2");
    let s = create(&store, &a, "shop").await;
    store
        .append_messages(&[msg(s.id, &a, "1"), msg(s.id, &a, "2")])
        .await
        .unwrap();
    store.mark_read(s.id, &a, 2, clock::now()).await.unwrap();
    store.mark_read(s.id, &b, 1, clock::now()).await.unwrap();
    let mut cursors = store.read_cursors(s.id).await.unwrap();
    cursors.sort_by_key(|(_, seq)| *seq);
    assert_eq!(cursors, vec![(b, 1), (a, 2)]);

    let acct = store
        .create_account(NewAccount {
            email: Email::parse("agent@example.com").unwrap(),
            password_hash: "x".into(),
            role: Role::Agent,
            business_id: None,
            name: Some("Agent Smith".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .find_account(acct.id)
            .await
            .unwrap()
            .unwrap()
            .name
            .as_deref(),
        Some("Agent Smith")
    );
    assert!(store.find_account(acct.id + 100).await.unwrap().is_none());
}
