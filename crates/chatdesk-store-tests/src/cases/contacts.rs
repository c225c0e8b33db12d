//! Contact people.

use super::*;

pub async fn contacts_are_upserted(store: Arc<dyn Store>) {
    let s = create(&store, &user("tia"), "shop").await;
    let other = create(&store, &user("ulla"), "shop").await;
    let elsewhere = create(&store, &user("tia"), "mall").await;
    let first = NewContact {
        id: uuid::Uuid::now_v7(),
        name: ContactText::parse("John Doe").unwrap(),
        email: Email::parse("john@company.com").unwrap(),
        phone: Some(Phone::parse("+6281234567890").unwrap()),
        position: Some(ContactText::parse("Manager").unwrap()),
        company_name: Some(ContactText::parse("PT. Example").unwrap()),
    };
    let c1 = store
        .upsert_contact(s.id, first.clone(), clock::now())
        .await
        .unwrap();
    assert_eq!(c1.name.as_str(), "John Doe");
    let mut second = first.clone();
    second.id = uuid::Uuid::now_v7();
    second.phone = None;
    second.email = Email::parse("jd@company.com").unwrap();
    let c2 = store
        .upsert_contact(s.id, second, clock::now())
        .await
        .unwrap();
    assert_eq!(c2.id, c1.id, "the contact keeps its id when replaced");
    assert_eq!(
        (c2.email.as_str(), c2.phone.as_ref()),
        ("jd@company.com", None)
    );
    let all = store
        .contacts(&[s.id, other.id, elsewhere.id, SessionId::generate()])
        .await
        .unwrap();
    assert_eq!(all, vec![(s.id, c2.clone())]);
    assert!(store.contacts(&[]).await.unwrap().is_empty());

    // One session with its contact: the same as the two reads, and gone once deleted.
    let (with, contact) = store.get_session_with_contact(s.id).await.unwrap().unwrap();
    assert_eq!(
        (with, contact),
        (
            store.get_session(s.id).await.unwrap().unwrap(),
            Some(c2.clone())
        )
    );
    let (without, none) = store
        .get_session_with_contact(other.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((without.id, none), (other.id, None));
    assert!(store
        .get_session_with_contact(SessionId::generate())
        .await
        .unwrap()
        .is_none());

    // A contact belongs to the person: their next session in the tenant shows it, until
    // that session is given one of its own, which is then the newest.
    let next = create(&store, &user("tia"), "shop").await;
    assert_eq!(
        store.contacts(&[next.id]).await.unwrap(),
        vec![(next.id, c2.clone())]
    );
    let (_, carried) = store
        .get_session_with_contact(next.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(carried, Some(c2.clone()));
    let mut third = first.clone();
    third.id = uuid::Uuid::now_v7();
    third.name = ContactText::parse("Tia Again").unwrap();
    let c3 = store
        .upsert_contact(next.id, third, clock::now())
        .await
        .unwrap();
    let after = create(&store, &user("tia"), "shop").await;
    let got = store.contacts(&[next.id, after.id]).await.unwrap();
    assert!(got.contains(&(next.id, c3.clone())) && got.contains(&(after.id, c3)));
    assert_eq!(got.len(), 2);

    store.delete_session(s.id, clock::now()).await.unwrap();
    assert!(store
        .get_session_with_contact(s.id)
        .await
        .unwrap()
        .is_none());

    // Linked to an account, a visitor's contact is the account's: its next session shows it.
    let visitor = VisitorId::parse("550e8400-e29b-41d4-a716-446655440000").unwrap();
    let anon = create(&store, &Party::Visitor(visitor), "shop").await;
    let mut given = first.clone();
    given.id = uuid::Uuid::now_v7();
    given.name = ContactText::parse("Vera").unwrap();
    let vera_contact = store
        .upsert_contact(anon.id, given, clock::now())
        .await
        .unwrap();
    let vera = UserId::parse("vera").unwrap();
    store
        .link_visitor(visitor, &vera, clock::now())
        .await
        .unwrap();
    let later = create(&store, &Party::User(vera), "shop").await;
    assert_eq!(
        store.contacts(&[later.id]).await.unwrap(),
        vec![(later.id, vera_contact)]
    );
}
