//! School IT administration: creating schools and staff accounts, deactivating staff.
//! Used by the `classkeys-server school …` and `staff …` commands, the demo and tests.

use anyhow::{Context, bail};
use classkeys_domain::identity::{DisplayName, Email, Role, SchoolSlug, Username};
use classkeys_domain::ids::{SchoolId, StaffId};
use classkeys_domain::secret::Sensitive;
use classkeys_domain::text::identity_key;
use sqlx::AnyConnection;

use crate::db::{self, Db};
use crate::keys::MasterKey;
use crate::password::{PasswordHasher, Work};
use crate::stored::{Sql, Status};

/// Shortest staff password accepted.
pub const MIN_STAFF_PASSWORD_CHARS: usize = 10;

/// Creates a school with its own data key.
pub async fn create_school(
    conn: &mut AnyConnection,
    keys: &MasterKey,
    name: &str,
    slug: &str,
) -> anyhow::Result<SchoolId> {
    let name = DisplayName::parse(name).context("school name")?;
    let slug = SchoolSlug::parse(slug)?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM school WHERE slug = $1")
        .bind(slug.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_some() {
        bail!("a school with the slug {} already exists", slug.as_str());
    }
    let id = SchoolId::generate();
    sqlx::query(
        "INSERT INTO school (id, name, slug, wrapped_data_key, change_seq, created_at)
         VALUES ($1, $2, $3, $4, 0, $5)",
    )
    .bind(id.to_string())
    .bind(name.as_str())
    .bind(slug.as_str())
    .bind(keys.wrap_new_data_key(&id.to_string())?)
    .bind(db::now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Finds a school by slug.
pub async fn school_by_slug(conn: &mut AnyConnection, slug: &str) -> anyhow::Result<SchoolId> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM school WHERE slug = $1")
        .bind(slug.trim().to_lowercase())
        .fetch_optional(&mut *conn)
        .await?;
    match id {
        Some(id) => Ok(db::parse_id(&id)?),
        None => bail!("there is no school with the slug {slug:?}"),
    }
}

/// What `school set` changes; `None` leaves a setting as it is.
#[derive(Debug, Default)]
pub struct SchoolLook<'a> {
    /// The crest colour at the top of the school's pages, `#rrggbb`.
    pub crest_colour: Option<&'a str>,
    /// How many hours the school's sign-in links work (1 to 72).
    pub sign_in_link_hours: Option<u32>,
}

/// Changes a school's page colour and sign-in link lifetime, keeping its other settings.
pub async fn set_school_look(
    conn: &mut AnyConnection,
    slug: &str,
    look: SchoolLook<'_>,
) -> anyhow::Result<()> {
    let longest = crate::links::SIGN_IN_LINK_LONGEST.as_secs() / 3600;
    if let Some(colour) = look.crest_colour
        && crate::credentials::parse_colour(colour).is_none()
    {
        bail!("{colour:?} is not a colour: write it as # and six hex digits, like #2e6b3f");
    }
    if let Some(hours) = look.sign_in_link_hours
        && !(1..=longest).contains(&u64::from(hours))
    {
        bail!("a sign-in link can work for 1 to {longest} hours, not {hours}");
    }
    let school = school_by_slug(conn, slug).await?.to_string();
    let stored: String = sqlx::query_scalar("SELECT settings FROM school WHERE id = $1")
        .bind(&school)
        .fetch_one(&mut *conn)
        .await?;
    let mut settings: serde_json::Value =
        serde_json::from_str(&stored).context("the school's stored settings cannot be read")?;
    if let Some(colour) = look.crest_colour {
        settings["appearance"]["crest_colour"] = colour.to_lowercase().into();
    }
    if let Some(hours) = look.sign_in_link_hours {
        settings["links"]["sign_in_link_hours"] = hours.into();
    }
    sqlx::query("UPDATE school SET settings = $1 WHERE id = $2")
        .bind(settings.to_string())
        .bind(&school)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A staff account to create.
#[derive(Debug)]
pub struct NewStaff<'a> {
    /// Sign-in name.
    pub username: &'a str,
    /// Name shown to colleagues; the username when absent.
    pub display_name: Option<&'a str>,
    /// Role.
    pub role: Role,
    /// Where the login helper sends their password help, if anywhere.
    pub email: Option<&'a str>,
    /// Initial password.
    pub password: Sensitive<String>,
}

/// Checks a staff password against the minimum policy.
pub fn check_staff_password(password: &Sensitive<String>) -> anyhow::Result<()> {
    if password.expose().chars().count() < MIN_STAFF_PASSWORD_CHARS {
        bail!("a staff password needs at least {MIN_STAFF_PASSWORD_CHARS} characters");
    }
    Ok(())
}

/// Creates a staff account in a school, inside the caller's change transaction.
pub async fn create_staff(
    conn: &mut AnyConnection,
    hasher: &PasswordHasher,
    school: SchoolId,
    seq: i64,
    new: NewStaff<'_>,
) -> anyhow::Result<StaffId> {
    let username = Username::parse(new.username)?;
    let display = DisplayName::parse(new.display_name.unwrap_or(username.as_str()))?;
    check_staff_password(&new.password)?;
    let school = school.to_string();
    let holder: Option<String> =
        sqlx::query_scalar("SELECT owner_id FROM identity_key WHERE school_id = $1 AND ident = $2")
            .bind(&school)
            .bind(identity_key(username.as_str()))
            .fetch_optional(&mut *conn)
            .await?;
    if holder.is_some() {
        bail!("the username {username} is already taken in this school");
    }
    let email = new.email.map(Email::parse).transpose()?;
    let id = StaffId::generate();
    let hash = hasher.hash(Work::Staff, new.password).await?;
    let now = db::now_ms();
    // Usernames and emails share the school's one namespace, staff and learners alike.
    for ident in std::iter::once(identity_key(username.as_str()))
        .chain(email.as_ref().map(|e| e.key().to_owned()))
    {
        let claimed = sqlx::query(
            "INSERT INTO identity_key (school_id, ident, owner_id) VALUES ($1, $2, $3)
             ON CONFLICT (school_id, ident) DO NOTHING",
        )
        .bind(&school)
        .bind(&ident)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
        if claimed.rows_affected() != 1 {
            bail!("{ident} is already used by another account in this school");
        }
    }
    sqlx::query(
        "INSERT INTO staff (id, school_id, username, display_name, role, password_hash, status,
                            credential_epoch, seq, created_at, updated_at, email)
         VALUES ($1, $2, $3, $4, $5, $6, $9, 0, $7, $8, $8, $10)",
    )
    .bind(id.to_string())
    .bind(&school)
    .bind(username.as_str())
    .bind(display.as_str())
    .bind(Sql(new.role))
    .bind(hash)
    .bind(seq)
    .bind(now)
    .bind(Sql(Status::Active))
    .bind(email.as_ref().map(Email::as_str))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Sets a staff member's password, ending their sessions.
pub async fn set_staff_password(
    conn: &mut AnyConnection,
    hasher: &PasswordHasher,
    school: SchoolId,
    seq: i64,
    username: &str,
    password: Sensitive<String>,
) -> anyhow::Result<()> {
    check_staff_password(&password)?;
    let hash = hasher.hash(Work::Staff, password).await?;
    let changed = sqlx::query(
        "UPDATE staff SET password_hash = $1, credential_epoch = credential_epoch + 1,
                seq = $2, updated_at = $3 WHERE school_id = $4 AND username = $5",
    )
    .bind(hash)
    .bind(seq)
    .bind(db::now_ms())
    .bind(school.to_string())
    .bind(username.trim().to_lowercase())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        bail!("there is no member of staff {username:?} in this school");
    }
    Ok(())
}

/// Deactivates a staff account: it can no longer sign in, and its sessions end at once.
pub async fn deactivate_staff(db: &Db, school_slug: &str, username: &str) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    let school = school_by_slug(&mut conn, school_slug).await?;
    drop(conn);
    let (mut tx, seq) = db.begin_change(&school.to_string()).await?;
    let now = db::now_ms();
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE staff SET status = $5, credential_epoch = credential_epoch + 1,
                seq = $1, updated_at = $2
         WHERE school_id = $3 AND username = $4 RETURNING id",
    )
    .bind(seq)
    .bind(now)
    .bind(school.to_string())
    .bind(username.trim().to_lowercase())
    .bind(Sql(Status::Deactivated))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        bail!("there is no member of staff {username:?} in the school {school_slug:?}");
    };
    sqlx::query("UPDATE token SET used_at = $1 WHERE subject_id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
