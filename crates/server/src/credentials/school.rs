//! A school as credential work needs it: its data key, names, password rules and the
//! address its learners sign in at. Settings that cannot be read refuse the work.

use classkeys_domain::ids::ClassId;
use classkeys_domain::password_policy::PasswordSettings;
use classkeys_domain::sealing::{Field, Scope, SealContext, SealingKey};
use classkeys_protocol::credentials::AccessCodes;
use sqlx::AnyConnection;

use crate::error::{Error, Result};
use crate::state::AppState;

use super::codes::open_code;
use super::rows::CredRow;

/// What a school's credential work needs: its data key, names and password rules.
pub struct SchoolContext {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) key: SealingKey,
    pub(super) settings: PasswordSettings,
    pub(super) sign_in_url: String,
}

/// The school's settings as stored: only the part this module reads.
#[derive(serde::Deserialize, Default)]
pub(super) struct StoredSettings {
    #[serde(default)]
    passwords: PasswordSettings,
    #[serde(default)]
    links: LinkSettings,
    #[serde(default)]
    appearance: Appearance,
}

/// How the school's pages look.
#[derive(serde::Deserialize, Default, Debug, Clone)]
pub struct Appearance {
    /// The crest colour, `#rrggbb`, at the top of every page; the pages' own blue when unset.
    pub crest_colour: Option<String>,
}

impl Appearance {
    /// The crest colour as red, green and blue, if set and well-formed.
    pub fn crest_rgb(&self) -> Option<(u8, u8, u8)> {
        self.crest_colour.as_deref().and_then(parse_colour)
    }
}

/// `#rrggbb`, and nothing else: the colour goes into a stylesheet.
pub fn parse_colour(text: &str) -> Option<(u8, u8, u8)> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let part = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some((part(0)?, part(2)?, part(4)?))
}

/// How the school's sign-in links behave.
#[derive(serde::Deserialize, Default, Debug, Clone, Copy)]
pub struct LinkSettings {
    /// How many hours a sign-in link works; the server's default when unset.
    pub sign_in_link_hours: Option<u32>,
}

impl StoredSettings {
    /// The school's settings, or an error: settings that cannot be read refuse the work
    /// rather than fall back to defaults, which could be weaker than the school's own rules.
    fn read(school_id: &str, stored: &str) -> Result<Self> {
        serde_json::from_str(stored).map_err(|e| {
            Error::internal(anyhow::anyhow!(
                "the settings of school {school_id} cannot be read ({e}): fix them before changing passwords"
            ))
        })
    }
}

/// A school's link settings.
pub(crate) async fn link_settings(
    conn: &mut AnyConnection,
    school_id: &str,
) -> Result<LinkSettings> {
    Ok(stored_settings(conn, school_id).await?.links)
}

/// How a school's pages look.
pub(crate) async fn appearance(conn: &mut AnyConnection, school_id: &str) -> Result<Appearance> {
    Ok(stored_settings(conn, school_id).await?.appearance)
}

async fn stored_settings(conn: &mut AnyConnection, school_id: &str) -> Result<StoredSettings> {
    let stored: String = sqlx::query_scalar("SELECT settings FROM school WHERE id = $1")
        .bind(school_id)
        .fetch_one(&mut *conn)
        .await?;
    StoredSettings::read(school_id, &stored)
}

/// A school's password rules, for a password chosen outside a teacher's reset.
pub(crate) async fn password_settings(
    conn: &mut AnyConnection,
    school_id: &str,
) -> Result<PasswordSettings> {
    Ok(stored_settings(conn, school_id).await?.passwords)
}

impl SchoolContext {
    /// Loads the school and opens its data key.
    pub async fn load(conn: &mut AnyConnection, state: &AppState, school_id: &str) -> Result<Self> {
        let (name, slug, settings, wrapped): (String, String, String, String) = sqlx::query_as(
            "SELECT name, slug, settings, wrapped_data_key FROM school WHERE id = $1",
        )
        .bind(school_id)
        .fetch_one(&mut *conn)
        .await?;
        let key = state
            .keys
            .school_key(school_id, &wrapped)
            .map_err(Error::internal)?;
        Ok(Self {
            id: school_id.to_owned(),
            name,
            key,
            settings: StoredSettings::read(school_id, &settings)?.passwords,
            sign_in_url: sign_in_url(&state.settings.public_url, &slug),
        })
    }

    /// The access codes of `rows` as the API answers them, passwords opened only when asked.
    pub(super) fn answer(
        &self,
        class: Option<(ClassId, String)>,
        rows: &[CredRow],
        with_passwords: bool,
    ) -> Result<AccessCodes> {
        let (class_id, class_name) = class.unzip();
        Ok(AccessCodes {
            class_id,
            class_name,
            school_name: self.name.clone(),
            sign_in_url: self.sign_in_url.clone(),
            codes: rows
                .iter()
                .map(|r| open_code(self, r, with_passwords))
                .collect::<Result<_>>()?,
        })
    }

    pub(super) fn context<'a>(
        &'a self,
        learner: &'a str,
        epoch: i64,
        field: Field,
    ) -> SealContext<'a> {
        SealContext {
            scope: Scope::School,
            owner: &self.id,
            learner,
            epoch,
            field,
        }
    }
}

/// Where a school's learners sign in.
pub fn sign_in_url(public_url: &str, slug: &str) -> String {
    format!("{}/s/{slug}/sign-in", public_url.trim_end_matches('/'))
}
