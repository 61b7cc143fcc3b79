//! Access codes and the student database as CSV: one class, or the whole school read in one
//! query (straight from the SQLite file when there is one) and unsealed across the cores
//! while it is read.

use classkeys_domain::access_codes::{AccessCodeRow, CsvWriter, to_csv};
use classkeys_domain::downloads;
use classkeys_domain::ids::ClassId;
use classkeys_domain::policy::{Action, Actor};
use classkeys_protocol::credentials::{AuditAction, SchoolExportKind};

use crate::audit::{self, AuditActor, Device};
use crate::auth::Authenticated;
use crate::error::{Error, Result};
use crate::records;
use crate::state::AppState;
use crate::stored::{Spelled, Sql, Status, password_state};

use super::codes::{ClassCodes, backfill_parent_codes, disclose_class, open_code};
use super::rows::{CRED_COLUMNS, CredRow};
use super::school::SchoolContext;

/// A file to offer as a download.
pub(super) struct Download {
    pub(super) file_name: String,
    pub(super) body: Vec<u8>,
    pub(super) content_type: &'static str,
}

const CSV: &str = "text/csv; charset=utf-8";

/// The school's CSV files.
#[derive(Debug, Clone, Copy)]
pub(super) enum SchoolCsv {
    AccessCodes,
    Students,
}

/// Learners handed to a CSV worker at a time: enough to keep the hand-over cheap, few
/// enough that workers start while the rows are still being read.
pub(super) const CSV_CHUNK: usize = 2048;

/// The access-code CSV of learners labelled with their classes, as they arrive: returns
/// the file and how many learners it holds.
///
/// Unsealing is most of the work, so it runs in parallel with the reading: this thread
/// pulls rows from `rows` (on SQLite that is stepping the query) and hands them out in
/// chunks, one worker per core opens and writes each chunk it takes, and the parts are
/// joined in their order at the end.
pub(super) fn access_codes_csv(
    school: &SchoolContext,
    rows: impl Iterator<Item = Result<(String, CredRow)>>,
) -> Result<(Vec<u8>, usize)> {
    // What every part starts with (BOM and header): kept once, at the very start.
    let preamble = to_csv([]);
    let write_chunk = |chunk: &[(String, CredRow)]| -> Result<Vec<u8>> {
        let mut writer = CsvWriter::new(Vec::with_capacity(preamble.len() + chunk.len() * 110))
            .map_err(Error::internal)?;
        for (class, row) in chunk {
            let code = open_code(school, row, true)?;
            writer
                .write_row(&AccessCodeRow {
                    class: class.clone(),
                    given_name: code.given_name,
                    family_name: code.family_name,
                    username: code.username,
                    password: code.password,
                    parent_code: code.parent_code,
                    sign_in_url: school.sign_in_url.clone(),
                })
                .map_err(Error::internal)?;
        }
        let mut part = writer.finish().map_err(Error::internal)?;
        part.drain(..preamble.len());
        Ok(part)
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (send, receive) = std::sync::mpsc::sync_channel::<(usize, Vec<_>)>(workers * 2);
    let receive = std::sync::Mutex::new(receive);
    let (parts, count) = std::thread::scope(|scope| -> Result<_> {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<(usize, Vec<u8>)>> {
                    let mut done = Vec::new();
                    loop {
                        let next = receive.lock().map_err(|_| worker_failed())?.recv();
                        let Ok((at, chunk)) = next else {
                            return Ok(done);
                        };
                        done.push((at, write_chunk(&chunk)?));
                    }
                })
            })
            .collect();
        let mut count = 0;
        let mut chunks = 0;
        let mut chunk = Vec::with_capacity(CSV_CHUNK);
        let mut read = Ok(());
        for row in rows {
            match row {
                Ok(row) => chunk.push(row),
                Err(e) => {
                    read = Err(e);
                    break;
                }
            }
            if chunk.len() == CSV_CHUNK {
                count += chunk.len();
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CSV_CHUNK));
                if send.send((chunks, full)).is_err() {
                    break; // every worker stopped: their error is reported below
                }
                chunks += 1;
            }
        }
        if read.is_ok() && !chunk.is_empty() {
            count += chunk.len();
            let _ = send.send((chunks, chunk));
        }
        drop(send);
        let mut parts = Vec::new();
        for handle in handles {
            parts.extend(handle.join().map_err(|_| worker_failed())??);
        }
        read?;
        Ok((parts, count))
    })?;
    let mut parts = parts;
    parts.sort_unstable_by_key(|(at, _)| *at);
    let mut out = preamble;
    out.reserve(parts.iter().map(|(_, p)| p.len()).sum());
    for (_, part) in parts {
        out.extend_from_slice(&part);
    }
    Ok((out, count))
}

pub(super) fn worker_failed() -> Error {
    Error::internal(anyhow::anyhow!("an export worker panicked"))
}

#[derive(sqlx::FromRow)]
pub(super) struct CredClassRow {
    #[sqlx(flatten)]
    pub(super) learner: CredRow,
    pub(super) class_name: Option<String>,
}

impl CredClassRow {
    /// A row of the export query ([`CRED_COLUMNS`], then the class name) as rusqlite reads it.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            learner: CredRow {
                id: row.get(0)?,
                username: row.get(1)?,
                given_name: row.get(2)?,
                family_name: row.get(3)?,
                email: row.get(4)?,
                status: row.get(5)?,
                password_set_by: row.get(6)?,
                password_sealed: row.get(7)?,
                must_change_password: row.get(8)?,
                credential_epoch: row.get(9)?,
                parent_code_sealed: row.get(10)?,
            },
            class_name: row.get(11)?,
        })
    }
}

/// Folds the export query's rows (one per enrolment, a learner's rows together) into one
/// learner each, labelled with their classes' names joined with ", ".
pub(super) struct ByLearner<I: Iterator> {
    rows: std::iter::Peekable<I>,
}

impl<I: Iterator<Item = Result<CredClassRow>>> Iterator for ByLearner<I> {
    type Item = Result<(String, CredRow)>;

    fn next(&mut self) -> Option<Self::Item> {
        let first = match self.rows.next()? {
            Ok(row) => row,
            Err(e) => return Some(Err(e)),
        };
        let mut classes = first.class_name.unwrap_or_default();
        while let Some(Ok(next)) = self
            .rows
            .next_if(|r| r.as_ref().is_ok_and(|r| r.learner.id == first.learner.id))
        {
            if let Some(name) = next.class_name {
                if !classes.is_empty() {
                    classes.push_str(", ");
                }
                classes.push_str(&name);
            }
        }
        Some(Ok((classes, first.learner)))
    }
}

/// The whole school's CSV of `kind`, and how many learners it holds: every active learner
/// with their classes, in one query. On SQLite the rows are stepped straight from the file
/// ([`crate::bulk`]) while the CSV is being written; on PostgreSQL they are read first.
pub(super) async fn school_csv(
    state: &AppState,
    school: SchoolContext,
    kind: SchoolCsv,
) -> Result<(Vec<u8>, usize)> {
    let collate = records::bytewise_on(state.db.backend());
    let sql = format!(
        "SELECT {CRED_COLUMNS}, c.name AS class_name FROM learner l
         LEFT JOIN enrollment e ON e.learner_id = l.id
         LEFT JOIN class c ON c.id = e.class_id
         WHERE l.school_id = $1 AND l.status = $2
         ORDER BY l.sort_key{collate}, l.id, c.name_key{collate}"
    );
    let school_id = school.id.clone();
    let write = move |rows: &mut dyn Iterator<Item = Result<CredClassRow>>| {
        let learners = ByLearner {
            rows: rows.peekable(),
        };
        match kind {
            SchoolCsv::AccessCodes => access_codes_csv(&school, learners),
            SchoolCsv::Students => {
                let all = learners.collect::<Result<Vec<_>>>()?;
                Ok((students_csv(&all)?, all.len()))
            }
        }
    };
    match state.db.sqlite_file() {
        Some(file) => {
            let file = file.to_owned();
            tokio::task::spawn_blocking(move || {
                crate::bulk::query_each(
                    &file,
                    &sql,
                    &[school_id, Status::Active.spelling().to_owned()],
                    CredClassRow::from_sqlite,
                    |rows| write(&mut rows.map(|r| r.map_err(Error::internal))),
                )
            })
            .await
            .map_err(Error::internal)?
            .map_err(Error::internal)?
        }
        None => {
            // Read first, then unsealed across the cores: streaming the rows to the workers
            // as they arrive was slower here, where the database server shares the cores
            // (`BENCHMARKS.md`).
            let rows: Vec<CredClassRow> = sqlx::query_as(&sql)
                .bind(&school_id)
                .bind(Sql(Status::Active))
                .fetch_all(state.db.pool())
                .await?;
            tokio::task::spawn_blocking(move || write(&mut rows.into_iter().map(Ok)))
                .await
                .map_err(Error::internal)?
        }
    }
}

/// The student database: no passwords, no parent codes.
pub(super) fn students_csv(rows: &[(String, CredRow)]) -> Result<Vec<u8>> {
    let table = rows.iter().map(|(class, row)| {
        [
            class.clone(),
            row.given_name.clone(),
            row.family_name.clone(),
            row.username.clone(),
            row.email.clone().unwrap_or_default(),
            match password_state(row.password_set_by) {
                classkeys_protocol::credentials::PasswordState::NotSet => "not set".to_owned(),
                classkeys_protocol::credentials::PasswordState::SetByTeacher => {
                    "teacher".to_owned()
                }
                classkeys_protocol::credentials::PasswordState::SetByLearner => {
                    "learner".to_owned()
                }
            },
            if row.must_change_password != 0 {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
        ]
    });
    classkeys_domain::access_codes::table_to_csv(
        &[
            "Class",
            "Given name",
            "Family name",
            "Username",
            "Email",
            "Password set by",
            "Must change password",
        ],
        table,
    )
    .map_err(Error::internal)
}

/// A class's access codes as a CSV file (active learners), audited before it is answered.
pub(super) async fn class_file(
    state: &AppState,
    actor: &Actor,
    device: &Device,
    id: ClassId,
) -> Result<Download> {
    let ClassCodes {
        class,
        school,
        rows,
    } = disclose_class(
        state,
        actor,
        device,
        id,
        Action::CodesExport,
        true,
        AuditAction::AccessCodesExported,
    )
    .await?;
    let class_name = class.name.clone();
    let (body, _) = tokio::task::spawn_blocking(move || {
        access_codes_csv(
            &school,
            rows.into_iter().map(|r| Ok((class_name.clone(), r))),
        )
    })
    .await
    .map_err(Error::internal)??;
    Ok(Download {
        file_name: downloads::class_access_codes(&class.name),
        body,
        content_type: CSV,
    })
}

/// The whole school's access codes or student database as a CSV file, or its roster as a
/// OneRoster zip, audited with the exact number of learners in it before it is answered.
/// The caller has checked that the actor is a lead teacher who has just entered their
/// password again.
pub(super) async fn school_file(
    state: &AppState,
    auth: &Authenticated,
    kind: SchoolExportKind,
) -> Result<Download> {
    let (actor, device) = (&auth.actor, &auth.device);
    let csv = match kind {
        SchoolExportKind::AccessCodes => SchoolCsv::AccessCodes,
        SchoolExportKind::Students => SchoolCsv::Students,
        SchoolExportKind::Roster => {
            let file = crate::roster_export::oneroster(state, auth).await?;
            return Ok(Download {
                file_name: file.file_name,
                body: file.body,
                content_type: "application/zip",
            });
        }
    };
    let school_id = actor.school_id.to_string();
    let mut conn = state.db.pool().acquire().await?;
    let school = SchoolContext::load(&mut conn, state, &school_id).await?;
    drop(conn);
    backfill_parent_codes(state, &school).await?;
    let (action, name, file_name) = match csv {
        SchoolCsv::AccessCodes => (
            AuditAction::SchoolAccessCodesExported,
            "access-codes",
            downloads::school_access_codes(&school.name),
        ),
        SchoolCsv::Students => (
            AuditAction::SchoolStudentsExported,
            "students",
            downloads::school_students(&school.name),
        ),
    };
    let (body, count) = school_csv(state, school, csv).await?;
    // Recorded before the file leaves the server, with the exact number of learners in it.
    audit::record_now(
        &state.db,
        AuditActor::Staff(actor),
        device,
        audit::Entry {
            at: state.clock.now_ms(),
            action,
            class_id: None,
            learners: &[],
            detail: serde_json::json!({ "learners": count }),
        },
    )
    .await?;
    tracing::info!(kind = name, learners = count, "school export");
    Ok(Download {
        file_name,
        body,
        content_type: CSV,
    })
}
