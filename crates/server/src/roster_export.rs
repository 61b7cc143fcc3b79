//! The school written out as a OneRoster 1.2 CSV zip, for its information system or for
//! another ClassKeys server: classes, learners (deactivated ones with `enabledUser`
//! false), staff (lead teachers as administrators) and who is in and who teaches each
//! class. Every record keeps the information system's id it was imported with, or its
//! ClassKeys id, so importing the file updates the same records instead of making new
//! ones. No password or access code is in it.
//!
//! Reading is three queries in one snapshot; writing is `classkeys-roster`'s, off the
//! async workers. The lead teacher's export is audited before the file is answered.

use classkeys_domain::downloads;
use classkeys_domain::identity::Role as StaffRole;
use classkeys_protocol::credentials::AuditAction;
use classkeys_roster::export::{
    Export, ExportClass, ExportEnrollment, ExportOrg, ExportUser, SchoolYear, oneroster_zip,
};
use classkeys_roster::oneroster::Role;
use time::format_description::well_known::Rfc3339;

use crate::audit::{self, AuditActor};
use crate::auth::Authenticated;
use crate::db::from_ms;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::stored::{Sql, Status};

/// A file to download.
pub struct RosterFile {
    pub file_name: String,
    pub body: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct LearnerRow {
    id: String,
    source_id: Option<String>,
    username: String,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: Sql<Status>,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: String,
    source_id: Option<String>,
    username: String,
    display_name: String,
    email: Option<String>,
    role: Sql<StaffRole>,
    status: Sql<Status>,
    updated_at: i64,
}

fn stamp(ms: i64) -> String {
    from_ms(ms).format(&Rfc3339).unwrap_or_default()
}

/// A display name as OneRoster's two names: the last word is the family name.
fn split_name(display_name: &str) -> (String, String) {
    match display_name.trim().rsplit_once(' ') {
        Some((given, family)) => (given.trim().to_owned(), family.to_owned()),
        None => (String::new(), display_name.trim().to_owned()),
    }
}

/// The caller's school as a OneRoster 1.2 zip.
pub async fn oneroster(state: &AppState, auth: &Authenticated) -> Result<RosterFile> {
    let school_id = auth.actor.school_id.to_string();
    let name = auth.me.school_name.clone();
    let mut tx = state.db.begin_snapshot().await?;
    let classes: Vec<(String, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT id, source_id, name, updated_at FROM class
         WHERE school_id = $1 AND archived_at IS NULL ORDER BY name_key",
    )
    .bind(&school_id)
    .fetch_all(&mut *tx)
    .await?;
    let learners: Vec<LearnerRow> = sqlx::query_as(
        "SELECT id, source_id, username, given_name, family_name, email, status, updated_at
         FROM learner WHERE school_id = $1 ORDER BY sort_key, id",
    )
    .bind(&school_id)
    .fetch_all(&mut *tx)
    .await?;
    let staff: Vec<StaffRow> = sqlx::query_as(
        "SELECT id, source_id, username, display_name, email, role, status, updated_at
         FROM staff WHERE school_id = $1 ORDER BY username",
    )
    .bind(&school_id)
    .fetch_all(&mut *tx)
    .await?;
    // The portable driver has no boolean both engines agree on: 1 marks a teacher.
    let enrolled: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT e.class_id, e.learner_id, 0 FROM enrollment e
         JOIN class c ON c.id = e.class_id WHERE c.school_id = $1 AND c.archived_at IS NULL
         UNION ALL
         SELECT ct.class_id, ct.staff_id, 1 FROM class_teacher ct
         JOIN class c ON c.id = ct.class_id WHERE c.school_id = $1 AND c.archived_at IS NULL",
    )
    .bind(&school_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    let now = state.clock.now_ms();
    let today = from_ms(now);
    let sourced =
        |id: &str, source: &Option<String>| source.clone().unwrap_or_else(|| id.to_owned());
    let mut ids = std::collections::HashMap::new();
    let classes: Vec<ExportClass> = classes
        .into_iter()
        .map(|(id, source_id, title, updated_at)| {
            let sourced_id = sourced(&id, &source_id);
            ids.insert(id, sourced_id.clone());
            ExportClass {
                sourced_id,
                title,
                modified: stamp(updated_at),
            }
        })
        .collect();
    let learner_count = learners.len();
    let mut users: Vec<ExportUser> = Vec::with_capacity(learners.len() + staff.len());
    for l in learners {
        let sourced_id = sourced(&l.id, &l.source_id);
        ids.insert(l.id, sourced_id.clone());
        users.push(ExportUser {
            sourced_id,
            role: Role::Student,
            username: l.username,
            given_name: l.given_name,
            family_name: l.family_name,
            email: l.email,
            enabled: l.status.0 == Status::Active,
            modified: stamp(l.updated_at),
        });
    }
    for s in staff {
        let sourced_id = sourced(&s.id, &s.source_id);
        ids.insert(s.id, sourced_id.clone());
        let (given_name, family_name) = split_name(&s.display_name);
        users.push(ExportUser {
            sourced_id,
            role: match s.role.0 {
                StaffRole::LeadTeacher => Role::Administrator,
                StaffRole::Teacher => Role::Teacher,
            },
            username: s.username,
            given_name,
            family_name,
            email: s.email,
            enabled: s.status.0 == Status::Active,
            modified: stamp(s.updated_at),
        });
    }
    let enrollments: Vec<ExportEnrollment> = enrolled
        .into_iter()
        .filter_map(|(class, user, teaches)| {
            Some(ExportEnrollment {
                class: ids.get(&class)?.clone(),
                user: ids.get(&user)?.clone(),
                role: if teaches == 1 {
                    Role::Teacher
                } else {
                    Role::Student
                },
            })
        })
        .collect();
    let export = Export {
        org: ExportOrg {
            sourced_id: school_id.clone(),
            name: name.clone(),
        },
        year: SchoolYear::of(today.year(), u8::from(today.month())),
        now: stamp(now),
        users,
        classes,
        enrollments,
    };
    let body = tokio::task::spawn_blocking(move || oneroster_zip(&export))
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
    audit::record_now(
        &state.db,
        AuditActor::Staff(&auth.actor),
        &auth.device,
        audit::Entry {
            at: now,
            action: AuditAction::SchoolStudentsExported,
            class_id: None,
            learners: &[],
            detail: serde_json::json!({ "format": "oneroster 1.2", "learners": learner_count }),
        },
    )
    .await?;
    Ok(RosterFile {
        file_name: downloads::school_roster(&name),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_display_name_splits_at_its_last_word() {
        assert_eq!(split_name("Mr Hughes"), ("Mr".into(), "Hughes".into()));
        assert_eq!(
            split_name("Anna Maria de Souza"),
            ("Anna Maria de".into(), "Souza".into())
        );
        assert_eq!(split_name("Cher"), (String::new(), "Cher".into()));
    }
}
