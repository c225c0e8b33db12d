//! Tenancy: every session belongs to a business and optionally one of its locations.

use super::text::line_newtype;

line_newtype!(
    /// The tenant. Sessions, agents and API keys are scoped to one.
    BusinessId, field = "business_id", code = "invalid_business_id", max = 64
);

line_newtype!(
    /// A location within a business (seed 001's `locationId`).
    LocationId, field = "location_id", code = "invalid_location_id", max = 64
);

impl BusinessId {
    pub const DEFAULT: &'static str = "default";

    /// The tenant of callers and requests that name none.
    pub fn default_tenant() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}
