//! Attachments: records within each tenant's quota, messages that carry them, and the files
//! of deleted sessions found for removal.

use super::*;

fn file(session: &Session, uploader: &Party, size: i64) -> Attachment {
    Attachment {
        id: AttachmentId::generate(),
        business_id: session.business_id.clone(),
        session_id: session.id,
        uploader: uploader.clone(),
        name: "photo.png".into(),
        content_type: "image/png".into(),
        size,
        thumbnail_size: Some(120),
        created_at: clock::now(),
    }
}

pub async fn a_tenant_keeps_files_within_its_quota(store: Arc<dyn Store>) {
    let ann = user("ann");
    let s = create(&store, &ann, "shop").await;
    let other = create(&store, &ann, "other").await;
    let first = file(&s, &ann, 600);
    assert!(store.insert_attachment(&first, 1000).await.unwrap());
    assert_eq!(
        store.get_attachment(first.id).await.unwrap(),
        Some(first.clone())
    );
    assert!(
        !store
            .insert_attachment(&file(&s, &ann, 401), 1000)
            .await
            .unwrap(),
        "600 + 401 bytes exceed the quota"
    );
    assert!(
        !store
            .insert_attachment(&file(&s, &ann, 1001), 1000)
            .await
            .unwrap(),
        "a first file larger than the quota is refused too"
    );
    let fits = file(&s, &ann, 400);
    assert!(store.insert_attachment(&fits, 1000).await.unwrap());
    assert!(
        store
            .insert_attachment(&file(&other, &ann, 1000), 1000)
            .await
            .unwrap(),
        "each tenant has its own quota"
    );
    store.forget_attachment(first.id).await.unwrap();
    assert_eq!(store.get_attachment(first.id).await.unwrap(), None);
    assert!(
        store
            .insert_attachment(&file(&s, &ann, 600), 1000)
            .await
            .unwrap(),
        "a forgotten file's bytes are free again"
    );
    assert_eq!(
        store
            .get_attachment(AttachmentId::generate())
            .await
            .unwrap(),
        None
    );
}

pub async fn a_message_keeps_its_files_until_it_is_deleted(store: Arc<dyn Store>) {
    let ann = user("ann");
    let s = create(&store, &ann, "shop").await;
    let photo = file(&s, &ann, 10);
    store.insert_attachment(&photo, 1000).await.unwrap();
    let mut m = msg(s.id, &ann, "");
    m.attachments = vec![photo.reference()];
    let sent = created(append_one(&store, m).await);
    assert_eq!(sent.attachments, vec![photo.reference()]);
    let page = first_messages(&store, s.id).await;
    assert_eq!(page[0].attachments, vec![photo.reference()]);
    assert_eq!(page[0].content, "");
    let deleted = store
        .revise_message(s.id, sent.seq, &Revision::Delete, clock::now())
        .await
        .unwrap()
        .unwrap();
    assert!(deleted.attachments.is_empty());
    let page = first_messages(&store, s.id).await;
    assert!(
        page[0].attachments.is_empty(),
        "a deleted message shows no files"
    );
}

pub async fn files_of_deleted_sessions_are_found_after_the_cutoff(store: Arc<dyn Store>) {
    let ann = user("ann");
    let kept = create(&store, &ann, "shop").await;
    let gone = create(&store, &ann, "shop").await;
    let (a, b) = (file(&kept, &ann, 10), file(&gone, &ann, 10));
    store.insert_attachment(&a, 1000).await.unwrap();
    store.insert_attachment(&b, 1000).await.unwrap();
    let deleted_at = clock::now();
    assert!(store.delete_session(gone.id, deleted_at).await.unwrap());
    assert_eq!(
        store.get_attachment(b.id).await.unwrap(),
        None,
        "a deleted session's files are not served"
    );
    let due = |cutoff| {
        let store = store.clone();
        async move {
            let found = store.attachments_of_deleted_sessions(cutoff, 10).await;
            found.unwrap().into_iter().map(|f| f.id).collect::<Vec<_>>()
        }
    };
    let later = deleted_at + Duration::seconds(1);
    assert!(due(deleted_at - Duration::seconds(1)).await.is_empty());
    assert_eq!(due(later).await, vec![b.id]);
    store.forget_attachment(b.id).await.unwrap();
    assert!(due(later).await.is_empty());
    assert_eq!(store.get_attachment(a.id).await.unwrap(), Some(a));
}
