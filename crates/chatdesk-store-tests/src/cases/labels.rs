//! Labels: unique names per tenant, set on sessions, and the session filter by label.

use super::*;

pub async fn labels_are_set_on_sessions_and_filter_lists(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    let now = clock::now();
    let label = |tenant: &BusinessId, name: &str| Label {
        id: uuid::Uuid::now_v7(),
        business_id: tenant.clone(),
        name: LabelName::parse(name).unwrap(),
        created_at: now,
    };
    let vip = store.create_label(&label(&shop, "VIP")).await.unwrap();
    let refund = store.create_label(&label(&shop, "refund")).await.unwrap();
    assert!(matches!(
        store.create_label(&label(&shop, "vip")).await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_label(&label(&tenant("other"), "vip"))
        .await
        .unwrap();
    let names: Vec<String> = store
        .list_labels(&shop)
        .await
        .unwrap()
        .iter()
        .map(|l| l.name.as_str().to_owned())
        .collect();
    assert_eq!(names.len(), 2);

    let a = create(&store, &user("ann"), "shop").await;
    let b = create(&store, &user("bob"), "shop").await;
    store
        .set_session_labels(a.id, &[vip.id, refund.id])
        .await
        .unwrap();
    store.set_session_labels(b.id, &[refund.id]).await.unwrap();
    append_one(&store, msg(a.id, &user("ann"), "parcel lost")).await;
    append_one(&store, msg(b.id, &user("bob"), "parcel late")).await;
    let of = store.labels_of(&[a.id, b.id]).await.unwrap();
    assert_eq!(of.iter().filter(|(s, _)| *s == a.id).count(), 2);
    assert_eq!(of.iter().filter(|(s, _)| *s == b.id).count(), 1);

    let by = |label: uuid::Uuid| SessionFilter {
        business_id: Some(shop.clone()),
        label_id: Some(label),
        ..SessionFilter::default()
    };
    let listed = store.list_sessions(&by(vip.id), None, 10).await.unwrap();
    assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), vec![a.id]);
    assert_eq!(
        store
            .list_sessions(&by(refund.id), None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    let query = SearchQuery::parse("parcel").unwrap();
    let found = store
        .search_messages(&by(vip.id), &query, 10)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|m| m.session_id).collect::<Vec<_>>(),
        vec![a.id]
    );

    // Setting replaces; deleting a label takes it off its sessions.
    store.set_session_labels(a.id, &[refund.id]).await.unwrap();
    assert!(store
        .list_sessions(&by(vip.id), None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store.delete_label(&shop, refund.id).await.unwrap());
    assert!(store.labels_of(&[a.id, b.id]).await.unwrap().is_empty());
    assert!(!store.delete_label(&tenant("other"), vip.id).await.unwrap());
}
