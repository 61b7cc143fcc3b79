//! The ClassKeys wire contract: every request and response body exchanged between the
//! server and its clients (the `classkeys` command line, the desktop app, the tests).
//!
//! The server publishes these types as OpenAPI 3 at `/api/openapi.json`. Changing a type here
//! changes the API for every client at once, which is the point: there is no second copy.

pub mod auth;
pub mod credentials;
pub mod diagnosis;
pub mod error;
pub mod imports;
pub mod messages;
pub mod paths;
pub mod roster;
pub mod sync;

pub use error::{ErrorBody, ErrorCode};

/// Serde helper for PATCH fields where "absent" (leave unchanged) differs from `null`
/// (clear the value): absent gives `None`, `null` gives `Some(None)`.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Deserialises a present field, `null` included, as `Some(_)`.
    pub fn deserialize<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(de).map(Some)
    }

    /// Serialises `Some(None)` as `null`; pair with `skip_serializing_if = "Option::is_none"`.
    pub fn serialize<T, S>(value: &Option<Option<T>>, ser: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize,
        S: Serializer,
    {
        match value {
            Some(inner) => inner.serialize(ser),
            None => ser.serialize_none(),
        }
    }
}
