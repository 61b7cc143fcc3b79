//! `classkeys reset`, `codes`, `export`, `cards` and `audit`: passwords and access codes.
//!
//! Passwords are generated here, with the same generator the desktop app uses, and checked
//! by the server, which also writes every reset, reveal, export and card print to the audit
//! log. Files are written atomically and readable only by their owner: they hold passwords.

use std::io::BufRead;

use anyhow::{Context, Result, anyhow};
use classkeys_cards::Paper;
use classkeys_client::Client;
use classkeys_client::files::write_atomically;
use classkeys_domain::access_codes::row_count;
use classkeys_domain::generator::{self, PasswordStyle};
use classkeys_domain::password_policy::{AgeBand, PasswordSettings};
use classkeys_domain::secret::Sensitive;
use classkeys_protocol::credentials::{
    AccessCode, AccessCodes, AuditPage, AuditQuery, ClassPasswordReset, CodesPurpose,
    LearnerPassword, LearnerPasswordReset, PasswordSource, PasswordState, SchoolExportKind,
    SchoolExportRequest,
};
use classkeys_protocol::roster::{ClassRecord, LearnerQuery};

use crate::args::{AuditArgs, CardsArgs, CodesArgs, ExportArgs, ResetArgs};
use crate::commands::login::read_own_password;
use crate::error::{Explained, invalid};
use crate::output::Output;
use crate::resolve::{PAGE_SIZE, Resolver};
use crate::table::Table;

/// The style for a class when none is asked for: the default of its age band.
fn default_style(class: Option<&ClassRecord>) -> PasswordStyle {
    let band = AgeBand::for_year_group(class.and_then(|c| c.year_group.as_deref()));
    PasswordSettings::default().for_band(band).style
}

fn style_arg(style: Option<&str>, class: Option<&ClassRecord>) -> Result<PasswordStyle> {
    match style {
        Some(s) => PasswordStyle::parse(s).map_err(|e| invalid("--style", e)),
        None => Ok(default_style(class)),
    }
}

/// The first line of standard input, without its line ending.
fn password_from_stdin() -> Result<Sensitive<String>> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(anyhow!(
            "--password-stdin: standard input had no password on its first line"
        ));
    }
    Ok(Sensitive::new(password))
}

/// `classkeys reset`.
pub async fn reset(client: &Client, args: ResetArgs, out: Output) -> Result<()> {
    let mut resolve = Resolver::new(client);
    let codes = if let Some(wanted) = &args.learner {
        let learner = resolve.learner(wanted).await?;
        let (password, source) = if args.password_stdin {
            (password_from_stdin()?, PasswordSource::Typed)
        } else {
            let first_class = match learner.classes.first() {
                Some(id) => resolve
                    .classes()
                    .await?
                    .iter()
                    .find(|c| c.id == *id)
                    .cloned(),
                None => None,
            };
            let style = style_arg(args.style.as_deref(), first_class.as_ref())?;
            (
                generator::generate(style, &mut rand::rng()),
                PasswordSource::Generated,
            )
        };
        client
            .learner_password_reset(
                learner.id,
                &LearnerPasswordReset {
                    password: password.expose().clone(),
                    source,
                    must_change: args.must_change,
                },
            )
            .await
            .explained()?
    } else {
        let name = args.class.as_deref().unwrap_or_default();
        let class = resolve.class(name).await?;
        let request = match args.mode.as_deref() {
            Some("individual") => {
                if args.password_stdin {
                    return Err(anyhow!(
                        "--password-stdin sets one password: use it with --mode same"
                    ));
                }
                let style = style_arg(args.style.as_deref(), Some(&class))?;
                let mut rng = rand::rng();
                let passwords = active_learners(client, &class)
                    .await?
                    .into_iter()
                    .map(|learner_id| LearnerPassword {
                        learner_id,
                        password: generator::generate(style, &mut rng).expose().clone(),
                    })
                    .collect();
                ClassPasswordReset::Individual {
                    passwords,
                    must_change: args.must_change,
                }
            }
            _ => {
                let (password, source) = if args.password_stdin {
                    (password_from_stdin()?, PasswordSource::Typed)
                } else {
                    let style = style_arg(args.style.as_deref(), Some(&class))?;
                    (
                        generator::generate(style, &mut rand::rng()),
                        PasswordSource::Generated,
                    )
                };
                crate::output::warn(&format!(
                    "every learner of {} gets the same password: anyone in the class can sign in as anyone else",
                    class.name
                ));
                ClassPasswordReset::Same {
                    password: password.expose().clone(),
                    source,
                    must_change: args.must_change,
                }
            }
        };
        client
            .class_passwords_reset(class.id, &request)
            .await
            .explained()?
    };
    out.show(&codes, || {
        let mut text = format!(
            "New password{} set{}:\n",
            if codes.codes.len() == 1 { "" } else { "s" },
            codes
                .class_name
                .as_deref()
                .map(|c| format!(" for {c}"))
                .unwrap_or_default()
        );
        text.push_str(&codes_table(&codes.codes, true));
        text
    })
}

/// The ids of a class's active learners, as the server lists them.
async fn active_learners(
    client: &Client,
    class: &ClassRecord,
) -> Result<Vec<classkeys_domain::ids::LearnerId>> {
    let mut ids = Vec::new();
    let mut query = LearnerQuery {
        class_id: Some(class.id),
        include_inactive: Some(false),
        offset: Some(0),
        limit: Some(PAGE_SIZE),
        ..Default::default()
    };
    loop {
        let page = client.learners(&query).await.explained()?;
        let got = page.items.len() as u32;
        ids.extend(page.items.into_iter().filter(|l| l.active).map(|l| l.id));
        let next = page.offset.saturating_add(got);
        if got == 0 || i64::from(next) >= page.total {
            break;
        }
        query.offset = Some(next);
    }
    if ids.is_empty() {
        return Err(anyhow!("{} has no active learners to reset", class.name));
    }
    Ok(ids)
}

/// The password cell as shown: the password, or why there is none.
fn password_cell(code: &AccessCode, revealed: bool) -> String {
    match (code.password_state, &code.password) {
        (PasswordState::NotSet, _) => "(no password yet)".into(),
        (PasswordState::SetByLearner, _) => "(set by the learner: reset it instead)".into(),
        (PasswordState::SetByTeacher, Some(password)) if revealed => password.clone(),
        (PasswordState::SetByTeacher, None) if revealed => "(cannot be shown: reset it)".into(),
        (PasswordState::SetByTeacher, _) => "(hidden: use --reveal)".into(),
    }
}

fn codes_table(codes: &[AccessCode], revealed: bool) -> String {
    let mut table = Table::new(&["USERNAME", "NAME", "PASSWORD", "PARENT CODE"]);
    for code in codes {
        let name = format!(
            "{} {}{}",
            code.given_name,
            code.family_name,
            if code.active { "" } else { " (deactivated)" }
        );
        table.row([
            code.username.clone(),
            name,
            password_cell(code, revealed),
            code.parent_code.clone(),
        ]);
    }
    table.render()
}

/// `classkeys codes`.
pub async fn codes(client: &Client, args: CodesArgs, out: Output) -> Result<()> {
    let mut resolve = Resolver::new(client);
    let class = resolve.class(&args.class).await?;
    let purpose = if args.reveal {
        CodesPurpose::Reveal
    } else {
        CodesPurpose::View
    };
    let codes = client
        .class_access_codes(class.id, purpose)
        .await
        .explained()?;
    out.show(&codes, || {
        format!(
            "{} — sign in at {}\n{}",
            class.name,
            codes.sign_in_url,
            codes_table(&codes.codes, args.reveal)
        )
    })
}

/// `classkeys export`.
pub async fn export(client: &Client, args: ExportArgs, out: Output) -> Result<()> {
    let (bytes, what) = if let Some(name) = &args.class {
        let class = Resolver::new(client).class(name).await?;
        let bytes = client
            .class_access_codes_export(class.id)
            .await
            .explained()?;
        (bytes, format!("the access codes of {}", class.name))
    } else {
        let me = client.me().await.explained()?;
        if !me.role.eq(&classkeys_domain::identity::Role::LeadTeacher) {
            return Err(anyhow!("only lead teachers can export the whole school"));
        }
        let kind = if args.roster {
            SchoolExportKind::Roster
        } else if args.students {
            SchoolExportKind::Students
        } else {
            SchoolExportKind::AccessCodes
        };
        let password = read_own_password(&me.username, client.base_url())?;
        let bytes = client
            .school_export(&SchoolExportRequest {
                kind,
                password: password.expose().clone(),
            })
            .await
            .explained()?;
        let what = match kind {
            SchoolExportKind::AccessCodes => "the whole school's access codes",
            SchoolExportKind::Students => "the school's student database",
            SchoolExportKind::Roster => "the school's roster as OneRoster 1.2",
        };
        (bytes, what.to_owned())
    };
    write_atomically(&args.out, &bytes)
        .with_context(|| format!("writing {}", args.out.display()))?;
    if args.roster {
        return report_roster(&args.out, &bytes, &what, out);
    }
    let rows = row_count(&bytes);
    let report = serde_json::json!({ "file": args.out, "rows": rows });
    out.show(&report, || {
        format!("Wrote {what} ({rows} learners) to {}", args.out.display())
    })
}

/// What a roster export holds, read back from the file written.
fn report_roster(file: &std::path::Path, bytes: &[u8], what: &str, out: Output) -> Result<()> {
    use classkeys_roster::oneroster::{Role, read_zip};
    let roster = read_zip("the export", bytes, &classkeys_roster::Limits::default())
        .map_err(|e| anyhow!("the server's export cannot be read back: {e}"))?;
    let learners = roster
        .users
        .iter()
        .filter(|u| u.role == Role::Student)
        .count();
    let staff = roster.users.len() - learners;
    let classes = roster.classes.len();
    let report = serde_json::json!({
        "file": file, "learners": learners, "staff": staff, "classes": classes,
    });
    out.show(&report, || {
        format!(
            "Wrote {what} ({learners} learners, {staff} staff, {classes} classes) to {}",
            file.display()
        )
    })
}

/// `classkeys cards`.
pub async fn cards(client: &Client, args: CardsArgs, out: Output) -> Result<()> {
    let paper = Paper::parse(&args.paper).map_err(|e| anyhow!("--paper: {e}"))?;
    let class = Resolver::new(client).class(&args.class).await?;
    let codes: AccessCodes = client
        .class_access_codes(class.id, CodesPurpose::Cards)
        .await
        .explained()?;
    if codes.codes.is_empty() {
        return Err(anyhow!(
            "{} has no active learners to print cards for",
            class.name
        ));
    }
    let pdf = classkeys_cards::render_codes(&codes, paper)
        .map_err(|e| anyhow!("making the login cards: {e}"))?;
    write_atomically(&args.out, &pdf).with_context(|| format!("writing {}", args.out.display()))?;
    let without = codes.codes.iter().filter(|c| c.password.is_none()).count();
    let report = serde_json::json!({
        "file": args.out,
        "cards": codes.codes.len(),
        "without_password": without,
    });
    out.show(&report, || {
        let mut text = format!(
            "Wrote {} login cards for {} to {}",
            codes.codes.len(),
            class.name,
            args.out.display()
        );
        if without > 0 {
            text.push_str(&format!(
                "\n{without} of them show no password (set by the learner or not set yet): reset those to print one"
            ));
        }
        text
    })
}

/// `classkeys audit`.
pub async fn audit(client: &Client, args: AuditArgs, out: Output) -> Result<()> {
    let learner_id = match &args.learner {
        Some(wanted) => Some(Resolver::new(client).learner(wanted).await?.id),
        None => None,
    };
    let page: AuditPage = client
        .audit(&AuditQuery {
            before: None,
            learner_id,
            limit: Some(args.limit.clamp(1, 500)),
        })
        .await
        .explained()?;
    out.show(&page.items, || {
        let mut table = Table::new(&["WHEN", "WHO", "WHAT", "CLASS", "LEARNERS", "DEVICE"]);
        for entry in &page.items {
            let learners = match entry.learners.as_slice() {
                [] => format!("{}", entry.learner_count),
                [one] if entry.learner_count == 1 => one.username.clone(),
                _ => format!("{} learners", entry.learner_count),
            };
            table.row([
                entry
                    .at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                entry.actor_name.clone().unwrap_or_default(),
                entry.action.describe().to_owned(),
                entry.class_name.clone().unwrap_or_default(),
                learners,
                entry.device.clone().unwrap_or_default(),
            ]);
        }
        table.render()
    })
}
