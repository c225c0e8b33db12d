//! Business hours: a tenant's schedule and its departments', set, replaced and removed.

use super::*;

pub async fn schedules_are_kept_per_tenant_and_department(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    let at = clock::now();
    let hours = |zone: &str| {
        BusinessHours::parse(serde_json::json!({
            "time_zone": zone,
            "weekly": {"mon": [["09:00", "17:00"]]},
            "holidays": ["2026-12-25"],
            "away_message": "Back on Monday",
        }))
        .unwrap()
    };
    store
        .set_hours(&shop, None, Some(&hours("UTC")), at)
        .await
        .unwrap();
    store
        .set_hours(&shop, Some("dept-1"), Some(&hours("Europe/Berlin")), at)
        .await
        .unwrap();
    store
        .set_hours(&tenant("other"), None, Some(&hours("Asia/Tokyo")), at)
        .await
        .unwrap();
    let mut got = store.hours(&shop).await.unwrap();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            (None, hours("UTC")),
            (Some("dept-1".into()), hours("Europe/Berlin"))
        ]
    );
    // Replaced, then removed.
    store
        .set_hours(&shop, None, Some(&hours("America/New_York")), at)
        .await
        .unwrap();
    store
        .set_hours(&shop, Some("dept-1"), None, at)
        .await
        .unwrap();
    assert_eq!(
        store.hours(&shop).await.unwrap(),
        vec![(None, hours("America/New_York"))]
    );
}
