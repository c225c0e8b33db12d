//! Canned responses: unique codes per tenant and department, changed and removed in place.

use super::*;

pub async fn canned_codes_are_unique_per_tenant_and_department(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    let now = clock::now();
    let canned = |tenant: &BusinessId, department: Option<&str>, code: &str| CannedResponse {
        id: uuid::Uuid::now_v7(),
        business_id: tenant.clone(),
        department_id: department.map(str::to_owned),
        code: ShortCode::parse(code).unwrap(),
        text: format!("text of {code}"),
        created_at: now,
        updated_at: now,
    };
    let hi = store
        .create_canned(&canned(&shop, None, "hi"))
        .await
        .unwrap();
    let bye = store
        .create_canned(&canned(&shop, None, "bye"))
        .await
        .unwrap();
    assert!(matches!(
        store.create_canned(&canned(&shop, None, "hi")).await,
        Err(StoreError::Conflict(_))
    ));
    // The same code in a department, or in another tenant, is another response.
    store
        .create_canned(&canned(&shop, Some("billing"), "hi"))
        .await
        .unwrap();
    store
        .create_canned(&canned(&tenant("other"), None, "hi"))
        .await
        .unwrap();
    let codes: Vec<String> = store
        .list_canned(&shop)
        .await
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c.code.as_str(),
                c.department_id.as_deref().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(codes, ["bye/-", "hi/-", "hi/billing"]);

    let later = now + Duration::seconds(5);
    let changed = store
        .update_canned(&shop, hi.id, None, Some("Hello there"), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.code.as_str(), changed.text.as_str()),
        ("hi", "Hello there")
    );
    assert_eq!(changed.updated_at.timestamp(), later.timestamp());
    assert!(matches!(
        store
            .update_canned(
                &shop,
                bye.id,
                Some(&ShortCode::parse("hi").unwrap()),
                None,
                later
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .update_canned(&tenant("other"), bye.id, None, Some("x"), later)
            .await
            .unwrap()
            .is_none(),
        "another tenant's is out of reach"
    );
    assert!(!store.delete_canned(&tenant("other"), bye.id).await.unwrap());
    assert!(store.delete_canned(&shop, bye.id).await.unwrap());
    assert!(!store.delete_canned(&shop, bye.id).await.unwrap());
    assert_eq!(store.list_canned(&shop).await.unwrap().len(), 2);
}
