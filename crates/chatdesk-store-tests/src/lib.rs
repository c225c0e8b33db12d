//! The `Store` contract: one suite of cases every backend must pass.
//!
//! A backend's test file calls [`contract_tests!`] with an async function that makes a fresh,
//! empty store (or `None` to skip, e.g. PostgreSQL without `CHATDESK_TEST_PG_URL`). Each case
//! runs on its own store; the fixture's teardown runs even when the case panics.

pub mod cases;

use chatdesk_core::store::Store;
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

pub type Teardown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A fresh store and what to do when the test is done with it.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub teardown: Option<Teardown>,
}

/// Make a fixture, run one case against it, tear down, then re-raise a panic if any.
pub async fn run<M, MF, C, CF>(make: M, case: C)
where
    M: FnOnce() -> MF,
    MF: Future<Output = Option<Fixture>>,
    C: FnOnce(Arc<dyn Store>) -> CF,
    CF: Future<Output = ()>,
{
    let Some(fixture) = make().await else {
        eprintln!("store not configured for this backend: case skipped");
        return;
    };
    let result = AssertUnwindSafe(case(fixture.store.clone()))
        .catch_unwind()
        .await;
    drop(fixture.store);
    if let Some(teardown) = fixture.teardown {
        teardown.await;
    }
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Generate one `#[tokio::test]` per contract case, each on a fresh store from `$make`.
#[macro_export]
macro_rules! contract_tests {
    ($make:path) => {
        $crate::contract_tests!(@each $make;
            open_creates_then_resumes,
            resume_skips_closed_and_deleted,
            concurrent_resume_creates_exactly_one,
            get_by_id_and_number,
            list_filters_and_pages,
            update_patches_and_clears,
            status_change_is_optimistic_and_closing_sets_ended_at,
            append_assigns_gap_free_seq,
            concurrent_batches_sharing_sessions_both_commit,
            concurrent_opens_fail_alone,
            append_is_idempotent_by_client_msg_id,
            append_to_closed_or_missing_session_writes_nothing,
            a_failing_batch_writes_nothing,
            queue_positions_follow_every_way_in_and_out,
            staff_reply_claims_a_waiting_session,
            concurrent_appends_stay_gap_free,
            message_ranges,
            read_cursor_is_monotonic_and_unread_excludes_own,
            accounts,
            api_keys,
            server_secret_is_created_once,
            timestamps_round_trip,
            counts_and_offset_pages,
            idle_sessions_are_closed,
            activity_counters_accumulate,
            contacts_are_upserted,
            linking_a_visitor_moves_its_sessions,
            read_cursors_and_accounts_by_id,
            unread_in_named_sessions_counts_for_any_reader,
            search_finds_words_within_the_filter,
            webhook_deliveries_queue_lease_and_retry,
            the_outbox_holds_each_subscribed_change,
            analytics_inputs_time_ranges_and_beats,
            departments_and_agents,
            routing_assigns_oldest_first_to_the_least_loaded_eligible_agent,
            a_new_agent_starts_with_its_tenants_initial_presence,
        );
        $crate::contract_tests!(@one_thread $make; a_failing_message_fails_only_itself);
    };
    // Cases whose sends must all queue before the committer runs again.
    (@one_thread $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "current_thread")]
            async fn $case() {
                $crate::run($make, $crate::cases::$case).await;
            }
        )*
    };
    (@each $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::run($make, $crate::cases::$case).await;
            }
        )*
    };
}
