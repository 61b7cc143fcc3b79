//! Passwords and access codes on the desktop: previews made here (the generator runs
//! offline and instantly), everything else through the server, which checks, hashes,
//! seals and audits (DESIGN §4, §6).
//!
//! Credential work needs the server's confirmation: offline, each use case says so plainly
//! and changes nothing. The one thing shown offline is a class's access-code list without
//! passwords, from the replica, where parent access codes are kept sealed under the device
//! key. Files (CSV, login cards) are written whole or not at all, readable
//! only by the teacher's account.

use std::path::{Path, PathBuf};

use classkeys_client::files::write_atomically;
use classkeys_domain::access_codes::row_count;
use classkeys_domain::generator::{self, PasswordStyle};
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::password_policy::{AgeBand, PasswordSettings};
use classkeys_domain::policy::{Action, Resource};
use classkeys_domain::sealing::{self, Field, Scope, SealContext, SealedSecret};
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::credentials::{
    AccessCode, AccessCodes, AuditEntry, AuditQuery, ClassPasswordReset, CodesPurpose,
    LearnerPassword, LearnerPasswordReset, PasswordSource, SchoolExportKind, SchoolExportRequest,
};
use classkeys_protocol::roster::{ClassRecord, InstructionsQuery, LearnerRecord};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppErrorCode, Result};
use crate::session::Session;
use crate::{App, edits, not_on_this_computer};

/// A password style as the reset screens offer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StyleChoice {
    /// The style.
    pub style: PasswordStyle,
    /// What it looks like, in a teacher's words.
    pub label: String,
    /// Its strength in bits.
    pub entropy_bits: f64,
    /// Whether it is the default for the class or learner at hand.
    pub default: bool,
}

/// One learner's line in a class-reset preview.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewLine {
    /// The learner.
    pub learner_id: LearnerId,
    /// Their name as shown.
    pub name: String,
    /// Their username.
    pub username: String,
    /// The password they would get.
    pub password: String,
}

impl std::fmt::Debug for PreviewLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviewLine")
            .field("learner_id", &self.learner_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// How a whole class is reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassResetMode {
    /// One password for every learner.
    Same,
    /// A new password each.
    Individual,
}

/// A class's access codes as the codes screen shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodesView {
    /// The codes.
    #[serde(flatten)]
    pub codes: AccessCodes,
    /// Read from this computer because the server could not be reached: no passwords, and
    /// parent access codes as they were last fetched here (empty where never fetched).
    pub offline: bool,
}

/// What binds a parent access code kept in the replica: this device's key, the signed-in
/// account (`owner`, the staff id) and the learner. Parent codes are not bound to the
/// credential epoch (a password reset keeps them), here as on the server.
fn device_context<'a>(owner: &'a str, learner: &'a str) -> SealContext<'a> {
    SealContext {
        scope: Scope::Device,
        owner,
        learner,
        epoch: 0,
        field: Field::ParentCode,
    }
}

/// What a file download wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedFile {
    /// Where.
    pub path: PathBuf,
    /// Learners in it.
    pub learners: usize,
}

/// Whose codes a codes screen shows.
enum Whose {
    Class(ClassId),
    Learner(LearnerRecord),
}

/// A learner's codes as the replica has them: no password, and the parent access code
/// kept here if it opens under this device's key for this account. A code sealed under
/// another key or for another account does not open, and is shown as unknown rather than
/// as something wrong.
fn offline_code(session: &Session, l: LearnerRecord, sealed: Option<String>) -> AccessCode {
    let owner = session.account.staff.id.to_string();
    let learner = l.id.to_string();
    let parent_code = sealed
        .and_then(|s| SealedSecret::parse(s).ok())
        .and_then(|s| {
            sealing::open(&session.device_key, &device_context(&owner, &learner), &s).ok()
        })
        .map(|code| code.expose().clone())
        .unwrap_or_default();
    AccessCode {
        learner_id: l.id,
        given_name: l.given_name,
        family_name: l.family_name,
        username: l.username,
        active: l.active,
        password_state: l.password,
        password: None,
        must_change: l.must_change_password,
        parent_code,
    }
}

/// The offline message for credential work, which the server must confirm and record.
pub(crate) fn needs_server(e: AppError, what: &str) -> AppError {
    if e.code == AppErrorCode::Offline {
        AppError::new(
            AppErrorCode::Offline,
            format!(
                "{what} needs the server, which could not be reached: nothing was changed. \
                 Try again when the connection is back."
            ),
        )
    } else {
        e
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, bytes).map_err(|e| {
        AppError::new(
            AppErrorCode::LocalData,
            format!(
                "{} could not be saved ({e}): choose a folder you may write to",
                path.display()
            ),
        )
    })
}

/// Passwords are fetched (and the reveal recorded) only when the teacher asked to see them.
fn codes_purpose(reveal: bool) -> CodesPurpose {
    if reveal {
        CodesPurpose::Reveal
    } else {
        CodesPurpose::View
    }
}

/// Saves a downloaded CSV file and says how many learners it holds.
fn save_csv(path: &Path, bytes: &[u8]) -> Result<SavedFile> {
    write_file(path, bytes)?;
    Ok(SavedFile {
        path: path.to_owned(),
        learners: row_count(bytes),
    })
}

/// A page of the audit log as the audit screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditLog {
    /// Entries, newest first.
    pub items: Vec<AuditLine>,
    /// Pass as `before` for the next page; none when this was the last.
    pub next: Option<String>,
}

/// One audit entry with what was done in words.
#[derive(Debug, Clone, Serialize)]
pub struct AuditLine {
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// What was done, in words.
    pub what: &'static str,
}

impl App {
    /// The password styles, with the default for a class (or for a learner's first class).
    pub async fn password_styles(&self, class: Option<ClassId>) -> Result<Vec<StyleChoice>> {
        self.signed_in()?;
        let default = self.default_style(class).await?;
        Ok(PasswordStyle::ALL
            .into_iter()
            .map(|style| StyleChoice {
                style,
                label: style.label().to_owned(),
                entropy_bits: style.entropy_bits(),
                default: style == default,
            })
            .collect())
    }

    async fn default_style(&self, class: Option<ClassId>) -> Result<PasswordStyle> {
        let year_group = match class {
            Some(id) => self.store.class(id).await?.and_then(|c| c.year_group),
            None => None,
        };
        Ok(PasswordSettings::default()
            .for_band(AgeBand::for_year_group(year_group.as_deref()))
            .style)
    }

    /// A new password to preview (regenerating is calling again). Nothing is sent.
    pub fn password_generate(&self, style: PasswordStyle) -> Result<Sensitive<String>> {
        self.signed_in()?;
        Ok(generator::generate(style, &mut rand::rng()))
    }

    /// Sets one learner's password: generated (as previewed) or typed. The server checks it
    /// against the school's rules and answers the learner's access codes.
    pub async fn learner_password_set(
        &self,
        learner: LearnerId,
        password: Sensitive<String>,
        source: PasswordSource,
        must_change: bool,
    ) -> Result<AccessCodes> {
        let session = self.signed_in()?;
        self.learner_allowed(learner, Action::PasswordReset).await?;
        let request = LearnerPasswordReset {
            password: password.expose().clone(),
            source,
            must_change,
        };
        let codes = session
            .client
            .learner_password_reset(learner, &request)
            .await
            .map_err(|e| needs_server(e.into(), "Setting a password"))?;
        self.sync_quietly().await;
        Ok(codes)
    }

    /// A preview of a class reset: every active learner of the class with the password they
    /// would get (the same one for all, or one each), from this computer's copy of the class.
    pub async fn class_reset_preview(
        &self,
        class: ClassId,
        mode: ClassResetMode,
        style: PasswordStyle,
    ) -> Result<Vec<PreviewLine>> {
        self.signed_in()?;
        self.class_allowed(class, Action::PasswordReset).await?;
        let mut learners = self.replica_class_learners(class).await?;
        learners.retain(|l| l.active);
        if learners.is_empty() {
            return Err(AppError::new(
                AppErrorCode::InvalidInput,
                "this class has no active learners to reset",
            ));
        }
        let mut rng = rand::rng();
        let same = generator::generate(style, &mut rng);
        Ok(learners
            .into_iter()
            .map(|l| PreviewLine {
                learner_id: l.id,
                name: format!("{} {}", l.given_name, l.family_name),
                username: l.username,
                password: match mode {
                    ClassResetMode::Same => same.expose().clone(),
                    ClassResetMode::Individual => {
                        generator::generate(style, &mut rng).expose().clone()
                    }
                },
            })
            .collect())
    }

    /// Applies a previewed class reset on the server: every learner changes or none does.
    /// If the class changed since the preview, nothing changes and the teacher previews again.
    pub async fn class_reset_apply(
        &self,
        class: ClassId,
        mode: ClassResetMode,
        preview: Vec<PreviewLine>,
        source: PasswordSource,
        must_change: bool,
    ) -> Result<AccessCodes> {
        let session = self.signed_in()?;
        self.class_allowed(class, Action::PasswordReset).await?;
        let request = match mode {
            ClassResetMode::Same => {
                let password = preview.first().map(|l| l.password.clone()).ok_or_else(|| {
                    AppError::new(AppErrorCode::InvalidInput, "the preview is empty")
                })?;
                if preview.iter().any(|l| l.password != password) {
                    return Err(AppError::new(
                        AppErrorCode::InvalidInput,
                        "a reset with one password for everyone needs the same password on every line",
                    ));
                }
                ClassPasswordReset::Same {
                    password,
                    source,
                    must_change,
                }
            }
            ClassResetMode::Individual => ClassPasswordReset::Individual {
                passwords: preview
                    .into_iter()
                    .map(|l| LearnerPassword {
                        learner_id: l.learner_id,
                        password: l.password,
                    })
                    .collect(),
                must_change,
            },
        };
        let codes = session
            .client
            .class_passwords_reset(class, &request)
            .await
            .map_err(|e| needs_server(e.into(), "Resetting a class's passwords"))?;
        self.sync_quietly().await;
        Ok(codes)
    }

    /// A class's access codes; passwords only when `reveal` (the server records who saw
    /// them).
    ///
    /// Without `reveal` the list also works offline: each answer from the server leaves
    /// the class's parent access codes in the replica, sealed under the device key, and
    /// when the server cannot be reached the list is built from the replica instead, marked
    /// [`CodesView::offline`]. Revealing a password always needs the server.
    pub async fn class_access_codes(&self, class: ClassId, reveal: bool) -> Result<CodesView> {
        let session = self.signed_in()?;
        self.class_allowed(class, Action::CodesView).await?;
        let answer = session
            .client
            .class_access_codes(class, codes_purpose(reveal))
            .await;
        self.codes_view(&session, Whose::Class(class), answer, reveal)
            .await
    }

    /// One learner's access codes; the password only when `reveal`. Without the server (and
    /// not revealing), what this computer knows: who set the password, and the parent
    /// access code as last fetched here.
    pub async fn learner_access_codes(
        &self,
        learner: LearnerId,
        reveal: bool,
    ) -> Result<CodesView> {
        let session = self.signed_in()?;
        let record = self.learner_allowed(learner, Action::CodesView).await?;
        let answer = session
            .client
            .learner_access_codes(learner, codes_purpose(reveal))
            .await;
        self.codes_view(&session, Whose::Learner(record), answer, reveal)
            .await
    }

    /// The server's answer as the codes screens show it, its parent codes kept for
    /// offline use; without the server (and not revealing), what this computer knows.
    async fn codes_view(
        &self,
        session: &Session,
        whose: Whose,
        answer: classkeys_client::Result<AccessCodes>,
        reveal: bool,
    ) -> Result<CodesView> {
        match answer.map_err(AppError::from) {
            Ok(codes) => {
                self.keep_parent_codes(session, &codes).await;
                Ok(CodesView {
                    codes,
                    offline: false,
                })
            }
            Err(e) if e.code == AppErrorCode::Offline && !reveal => match whose {
                Whose::Class(class) => self.offline_codes(session, class).await,
                Whose::Learner(record) => self.offline_learner_codes(session, record).await,
            },
            Err(e) => Err(needs_server(e, "Showing passwords")),
        }
    }

    /// Replaces a learner's parent access code.
    pub async fn parent_code_rotate(&self, learner: LearnerId) -> Result<AccessCodes> {
        let session = self.signed_in()?;
        self.learner_allowed(learner, Action::ParentCodeRotate)
            .await?;
        let codes = session
            .client
            .learner_parent_code_rotate(learner)
            .await
            .map_err(|e| needs_server(e.into(), "Replacing a parent access code"))?;
        self.keep_parent_codes(&session, &codes).await;
        Ok(codes)
    }

    /// Leaves the parent codes of an answer in the replica, sealed under the device key.
    /// Best effort: the answer is shown whether or not they could be kept, and a code not
    /// kept only means the offline list shows it as unknown.
    async fn keep_parent_codes(&self, session: &Session, codes: &AccessCodes) {
        let owner = session.account.staff.id.to_string();
        // In a block of its own: the thread's generator must not be held across the await.
        let sealed: Vec<(LearnerId, String)> = {
            let mut rng = rand::rng();
            codes
                .codes
                .iter()
                .filter(|c| !c.parent_code.is_empty())
                .map(|c| {
                    let learner = c.learner_id.to_string();
                    let sealed = sealing::seal(
                        &session.device_key,
                        &device_context(&owner, &learner),
                        &c.parent_code,
                        &mut rng,
                    );
                    (c.learner_id, sealed.into_string())
                })
                .collect()
        };
        // Nothing to report to the teacher: the list on screen is complete either way.
        let _ = self
            .store
            .keep_parent_codes(&codes.sign_in_url, &sealed)
            .await;
    }

    /// A class's access codes from the replica: names, usernames and password states as
    /// last synced, parent codes as last fetched, no passwords.
    async fn offline_codes(&self, session: &Session, class: ClassId) -> Result<CodesView> {
        let record = self
            .store
            .class(class)
            .await?
            .ok_or_else(|| not_on_this_computer("class"))?;
        let kept = self.store.parent_codes(class).await?;
        let learners = self.replica_class_learners(class).await?;
        let codes = learners
            .into_iter()
            .map(|l| {
                let sealed = kept.get(&l.id).cloned();
                offline_code(session, l, sealed)
            })
            .collect();
        self.offline_view(session, Some((class, record.name)), codes)
            .await
    }

    /// One learner's codes as this computer knows them.
    async fn offline_learner_codes(
        &self,
        session: &Session,
        record: LearnerRecord,
    ) -> Result<CodesView> {
        let sealed = self.store.parent_code(record.id).await?;
        self.offline_view(session, None, vec![offline_code(session, record, sealed)])
            .await
    }

    async fn offline_view(
        &self,
        session: &Session,
        class: Option<(ClassId, String)>,
        codes: Vec<AccessCode>,
    ) -> Result<CodesView> {
        let (class_id, class_name) = class.unzip();
        Ok(CodesView {
            codes: AccessCodes {
                class_id,
                class_name,
                school_name: session.account.staff.school_name.clone(),
                sign_in_url: self.store.sign_in_url().await?.unwrap_or_default(),
                codes,
            },
            offline: true,
        })
    }

    /// Every learner of a class in the replica, by family then given name.
    pub(crate) async fn replica_class_learners(
        &self,
        class: ClassId,
    ) -> Result<Vec<LearnerRecord>> {
        let mut learners = Vec::new();
        loop {
            let (page, total) = self
                .store
                .learners(Some(class), learners.len() as u32, crate::MAX_PAGE)
                .await?;
            let last = page.is_empty();
            learners.extend(page);
            if last || learners.len() as i64 >= total {
                return Ok(learners);
            }
        }
    }

    /// Saves parents' "how to sign in" sheets into `path`: one page for `learner`, or one
    /// for each active learner of `class`, naming them and their username (no password).
    pub async fn instructions_save(
        &self,
        class: Option<ClassId>,
        learner: Option<LearnerId>,
        paper: classkeys_cards::Paper,
        path: &Path,
    ) -> Result<SavedFile> {
        let session = self.signed_in()?;
        let learners = match (class, learner) {
            (Some(class), None) => {
                self.class_allowed(class, Action::CodesExport).await?;
                self.replica_class_learners(class)
                    .await?
                    .iter()
                    .filter(|l| l.active)
                    .count()
            }
            (None, Some(learner)) => {
                self.learner_allowed(learner, Action::CodesView).await?;
                1
            }
            _ => {
                return Err(AppError::new(
                    AppErrorCode::InvalidInput,
                    "choose a class or a learner to print instructions for",
                ));
            }
        };
        let pdf = session
            .client
            .instructions_pdf(&InstructionsQuery {
                class_id: class,
                learner_id: learner,
                paper: Some(paper.as_str().to_owned()),
            })
            .await
            .map_err(|e| needs_server(e.into(), "Printing instructions"))?;
        write_file(path, &pdf)?;
        Ok(SavedFile {
            path: path.to_owned(),
            learners,
        })
    }

    /// Downloads a class's access codes as CSV into `path`.
    pub async fn class_codes_export(&self, class: ClassId, path: &Path) -> Result<SavedFile> {
        let session = self.signed_in()?;
        self.class_allowed(class, Action::CodesExport).await?;
        let bytes = session
            .client
            .class_access_codes_export(class)
            .await
            .map_err(|e| needs_server(e.into(), "Downloading access codes"))?;
        save_csv(path, &bytes)
    }

    /// The name the whole school's export of `kind` is offered under.
    pub fn school_export_file_name(&self, kind: SchoolExportKind) -> Result<String> {
        let session = self.signed_in()?;
        let school = &session.account.staff.school_name;
        Ok(match kind {
            SchoolExportKind::AccessCodes => {
                classkeys_domain::downloads::school_access_codes(school)
            }
            SchoolExportKind::Students => classkeys_domain::downloads::school_students(school),
            SchoolExportKind::Roster => classkeys_domain::downloads::school_roster(school),
        })
    }

    /// Downloads the whole school's access codes, student database or roster (a OneRoster
    /// zip) into `path` (lead teachers, after entering their password again).
    pub async fn school_export(
        &self,
        kind: SchoolExportKind,
        password: Sensitive<String>,
        path: &Path,
    ) -> Result<SavedFile> {
        let session = self.signed_in()?;
        let school = Resource::School {
            school: session.account.staff.school_id,
        };
        edits::allow(&session, Action::SchoolExport, &school, "school")?;
        let request = SchoolExportRequest {
            kind,
            password: password.expose().clone(),
        };
        let bytes = session
            .client
            .school_export(&request)
            .await
            .map_err(|e| needs_server(e.into(), "Exporting the school"))?;
        if kind != SchoolExportKind::Roster {
            return save_csv(path, &bytes);
        }
        let roster = classkeys_roster::oneroster::read_zip(
            "the export",
            &bytes,
            &classkeys_roster::Limits::default(),
        )
        .map_err(|e| {
            AppError::new(
                AppErrorCode::Server,
                format!("the server's roster export cannot be read: {e}"),
            )
        })?;
        write_file(path, &bytes)?;
        Ok(SavedFile {
            path: path.to_owned(),
            learners: roster
                .users
                .iter()
                .filter(|u| u.role == classkeys_roster::oneroster::Role::Student)
                .count(),
        })
    }

    /// Makes a class's login cards as a PDF in `path`.
    pub async fn class_cards(
        &self,
        class: ClassId,
        paper: classkeys_cards::Paper,
        path: &Path,
    ) -> Result<SavedFile> {
        let session = self.signed_in()?;
        self.class_allowed(class, Action::CodesExport).await?;
        let codes = session
            .client
            .class_access_codes(class, CodesPurpose::Cards)
            .await
            .map_err(|e| needs_server(e.into(), "Printing login cards"))?;
        if codes.codes.is_empty() {
            return Err(AppError::new(
                AppErrorCode::InvalidInput,
                "this class has no active learners to print cards for",
            ));
        }
        let pdf = classkeys_cards::render_codes(&codes, paper).map_err(|e| {
            AppError::new(
                AppErrorCode::Internal,
                format!("the login cards could not be made: {e}"),
            )
        })?;
        write_file(path, &pdf)?;
        Ok(SavedFile {
            path: path.to_owned(),
            learners: codes.codes.len(),
        })
    }

    /// One page of the audit log, newest first: the school's for lead teachers, their
    /// classes' for teachers.
    pub async fn audit(
        &self,
        before: Option<String>,
        learner: Option<LearnerId>,
    ) -> Result<AuditLog> {
        let session = self.signed_in()?;
        let page = session
            .client
            .audit(&AuditQuery {
                before,
                learner_id: learner,
                limit: Some(100),
            })
            .await
            .map_err(|e| needs_server(e.into(), "The audit log"))?;
        Ok(AuditLog {
            items: page
                .items
                .into_iter()
                .map(|entry| AuditLine {
                    what: entry.action.describe(),
                    entry,
                })
                .collect(),
            next: page.next,
        })
    }

    /// The class, from this computer's copy, if the policy lets the member of staff do
    /// `action` to it.
    pub(crate) async fn class_allowed(
        &self,
        class: ClassId,
        action: Action,
    ) -> Result<ClassRecord> {
        let session = self.signed_in()?;
        let record = self
            .store
            .class(class)
            .await?
            .ok_or_else(|| not_on_this_computer("class"))?;
        let resource = Resource::Class {
            school: session.account.staff.school_id,
            taught_by_actor: record
                .teachers
                .iter()
                .any(|t| t.id == session.account.staff.id),
        };
        edits::allow(&session, action, &resource, "class")?;
        Ok(record)
    }

    /// The learner, from this computer's copy, if the policy lets the member of staff do
    /// `action` to them.
    pub(crate) async fn learner_allowed(
        &self,
        learner: LearnerId,
        action: Action,
    ) -> Result<LearnerRecord> {
        let session = self.signed_in()?;
        // The replica holds only learners this member of staff may see.
        let record = self
            .store
            .learner(learner)
            .await?
            .ok_or_else(|| not_on_this_computer("learner"))?;
        let resource = Resource::Learner {
            school: session.account.staff.school_id,
            in_actor_class: true,
        };
        edits::allow(&session, action, &resource, "learner")?;
        Ok(record)
    }
}
