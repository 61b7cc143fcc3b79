//! Staff sign-in and sessions.

use classkeys_domain::identity::Role;
use classkeys_domain::ids::{SchoolId, StaffId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Staff sign-in.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct SignInRequest {
    /// The school's slug. May be left out when the server hosts exactly one school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    /// The staff username.
    pub username: String,
    /// The password. Never logged.
    pub password: String,
    /// The device token an earlier sign-in on this device handed out, if any: failed
    /// sign-ins elsewhere do not hold this device back. Never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

impl std::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("school", &self.school)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A new session.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// The bearer token for `Authorization: Bearer …`. Shown once; the server keeps only its hash.
    pub token: String,
    /// When the session ends by itself.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Who signed in.
    pub staff: Me,
    /// Keep it and send it with the next sign-in from this device (see
    /// [`SignInRequest::device_token`]). Never logged.
    pub device_token: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("staff", &self.staff)
            .finish()
    }
}

/// The signed-in member of staff and their school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// Staff id.
    pub id: StaffId,
    /// Username.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role in the school.
    pub role: Role,
    /// The school's id.
    pub school_id: SchoolId,
    /// The school's name.
    pub school_name: String,
    /// The school's slug.
    pub school_slug: String,
}
