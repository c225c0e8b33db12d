//! Business hours (`/v1/business-hours`) and the offline form (`/v1/offline-messages`).

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::guards::ClientIp;
use crate::http::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::wire::views::{named_session, SessionView};
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::domain::BusinessHours;
use chatdesk_core::service::OfflineMessage;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hours, set_hours))
        .routes(routes!(now))
        .routes(routes!(leave_message))
}

#[derive(Serialize, ToSchema)]
pub struct ScheduleView {
    /// `null`: the tenant's own schedule.
    pub department_id: Option<String>,
    /// `{"time_zone", "weekly": {"mon": [["09:00", "17:00"]], …}, "holidays": ["2026-12-25"],
    /// "away_message"}`.
    #[schema(value_type = Object)]
    pub hours: BusinessHours,
}

#[derive(Serialize, ToSchema)]
pub struct ScheduleList {
    pub schedules: Vec<ScheduleView>,
}

/// The tenant's business hours and its departments' (staff).
#[utoipa::path(get, path = "/v1/business-hours", tag = "sessions",
    responses((status = 200, body = ScheduleList), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn list_hours(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<ApiJson<ScheduleList>> {
    let schedules = state.hours.list(&p).await?;
    Ok(ApiJson(ScheduleList {
        schedules: schedules
            .into_iter()
            .map(|(department_id, hours)| ScheduleView {
                department_id,
                hours,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetHours {
    /// Unscoped admins: the tenant (default: your own).
    pub business_id: Option<String>,
    /// A department's schedule instead of the tenant's.
    pub department_id: Option<String>,
    /// The schedule, or `null` to remove it (then always open, or the tenant's).
    #[schema(value_type = Option<Object>)]
    pub hours: Option<serde_json::Value>,
}

/// Set or remove a schedule (admins and services): a time zone (IANA), per weekday up to
/// four `["HH:MM", "HH:MM"]` intervals, holidays (`YYYY-MM-DD`) and an away message.
#[utoipa::path(put, path = "/v1/business-hours", tag = "sessions", request_body = SetHours,
    responses((status = 200, body = ScheduleView), (status = 204, description = "Removed"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn set_hours(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<SetHours>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let set = state
        .hours
        .set(
            &p,
            b.business_id.as_deref(),
            b.department_id.as_deref(),
            b.hours,
        )
        .await?;
    Ok(match set {
        Some(hours) => ApiJson(ScheduleView {
            department_id: b.department_id,
            hours,
        })
        .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NowQuery {
    pub business_id: Option<String>,
    pub department_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AvailabilityView {
    pub open: bool,
    pub away_message: Option<String>,
}

/// Whether the tenant (or department) answers now: the widget asks before it opens a
/// conversation, and offers the offline form when not.
#[utoipa::path(get, path = "/v1/business-hours/now", tag = "sessions", params(NowQuery),
    responses((status = 200, body = AvailabilityView), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn now(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<NowQuery>,
) -> ApiResult<ApiJson<AvailabilityView>> {
    let a = state
        .hours
        .availability(&p, q.business_id.as_deref(), q.department_id.as_deref())
        .await?;
    Ok(ApiJson(AvailabilityView {
        open: a.open,
        away_message: a.away_message,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineBody {
    pub business_id: Option<String>,
    pub department_id: Option<String>,
    pub name: String,
    pub email: String,
    pub message: String,
}

/// The offline form: a new session of type `offline`, with the sender's contact and message
/// (its `session.created` webhook says so). Counted against `session_opens_per_ip`.
#[utoipa::path(post, path = "/v1/offline-messages", tag = "sessions", request_body = OfflineBody,
    responses((status = 201, body = SessionView), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn leave_message(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Caller(p): Caller,
    ApiJson(b): ApiJson<OfflineBody>,
) -> ApiResult<(StatusCode, ApiJson<SessionView>)> {
    let left = format!(
        "From {} <{}>:\n\n{}\n",
        b.name.trim(),
        b.email.trim(),
        b.message
    );
    let form = OfflineMessage {
        business_id: b.business_id,
        department_id: b.department_id,
        name: b.name,
        email: b.email,
        message: b.message,
    };
    let (session, _) = state
        .guards
        .open_session(ip, async {
            state.hours.leave_message(&p, form).await.map(|s| (s, true))
        })
        .await?;
    mail_offline_form(&state, &session, &left).await;
    // As it is now: with the contact and the message the form left.
    let (session, contact) = state
        .sessions
        .get_session_with_contact(&p, session.id)
        .await?;
    let view = named_session(&state, &session).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(view.with_contact(contact.as_ref())),
    ))
}

/// Email the offline form to the address the tenant's (or department's) hours name, when
/// the server sends email. After the session is stored; a failure is logged, not answered:
/// the message is kept either way.
async fn mail_offline_form(state: &AppState, session: &chatdesk_core::domain::Session, text: &str) {
    let Some(mailer) = state.mailer.clone() else {
        return;
    };
    let to = match state.hours.offline_email(session).await {
        Ok(Some(to)) => to,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not read where the offline form goes");
            return;
        }
    };
    let mail = crate::mail::Mail {
        to,
        subject: format!("Offline message (conversation {})", session.number),
        text: text.to_owned(),
        html: None,
    };
    tokio::spawn(async move {
        if let Err(why) = mailer.send(mail).await {
            tracing::warn!(error = %why, "an offline form was not emailed");
        }
    });
}
