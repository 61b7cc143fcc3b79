//! Typed identifiers. All ids are UUIDv7: unique without coordination (the desktop creates
//! records offline) and roughly time-ordered, which keeps database indexes compact.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh id (UUIDv7 from the system clock).
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A school: the boundary nobody's permissions cross.
    SchoolId
);
id_type!(
    /// A member of staff: teacher or lead teacher.
    StaffId
);
id_type!(
    /// A class (teaching group) within a school.
    ClassId
);
id_type!(
    /// A learner (pupil, student).
    LearnerId
);
id_type!(
    /// A roster import: previewed, then applied.
    ImportId
);
id_type!(
    /// A sync operation, chosen by the client so that replays are recognised.
    OperationId
);
