//! `classkeys import`: a roster file previewed on the server, shown, and applied once the
//! lead teacher agrees.

use std::io::BufRead;

use anyhow::{Context, Result, bail};
use classkeys_client::Client;
use classkeys_protocol::imports::{
    INVITATION_LIFETIME_DAYS, ImportApplied, ImportPreview, ImportQuery, too_large,
};
use serde::Serialize;

use crate::args::ImportArgs;
use crate::error::Explained;
use crate::output::Output;
use crate::table::Table;

/// What `--json` prints: the preview, and what applying did when it was applied.
#[derive(Serialize)]
struct ImportView<'a> {
    preview: &'a ImportPreview,
    applied: Option<&'a ImportApplied>,
}

/// `classkeys import FILE`.
pub async fn import(client: &Client, args: ImportArgs, out: Output) -> Result<()> {
    let shown = args.file.display().to_string();
    // The size first: a file too large is refused before a byte of it is read.
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {shown}"))?
        .len();
    if let Some(why) = too_large(&shown, size) {
        bail!(why);
    }
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {shown}"))?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.clone());
    let query = ImportQuery {
        format: args.format.clone(),
        org: args.org.clone(),
        name: Some(name),
        map: (!args.map.is_empty()).then(|| args.map.join("\n")),
    };
    let preview = client
        .import_preview(&query, bytes)
        .await
        .explained()
        .map_err(with_flags)?;
    let nothing = preview.changes_nothing();
    if args.dry_run || nothing {
        return out.show(
            &ImportView {
                preview: &preview,
                applied: None,
            },
            || {
                let mut text = describe(&preview);
                if nothing {
                    text.push_str("Nothing to change: the school already matches this file.\n");
                } else {
                    text.push_str("Nothing was changed (--dry-run).\n");
                }
                text
            },
        );
    }
    let held = !preview.held.is_empty();
    if args.yes {
        if held && !args.confirm_held {
            bail!(
                "nothing was changed: this import waits for a lead teacher's confirmation ({}); \
                 add --confirm-held to apply it anyway",
                preview.held.join("; ")
            );
        }
    } else {
        // The preview goes to standard error with the question, so standard output holds
        // only the outcome.
        eprint!("{}", crate::table::terminal_safe(&describe(&preview)));
        let question = if held {
            format!(
                "This import is held: {}. Apply it anyway? [y/N] ",
                preview.held.join("; ")
            )
        } else {
            "Apply these changes? [y/N] ".to_owned()
        };
        if !ask(&question)? {
            bail!("nothing was changed: answer y to apply, or run with --yes");
        }
    }
    let applied = client
        .import_apply(preview.import_id, held)
        .await
        .explained()?;
    out.show(
        &ImportView {
            preview: &preview,
            applied: Some(&applied),
        },
        || outcome(&applied),
    )
}

/// The server's question about a file, with the flag that answers it on this command line.
fn with_flags(e: anyhow::Error) -> anyhow::Error {
    let message = e.to_string();
    if message.contains("schools: say which one to import") {
        anyhow::anyhow!("{message}; import one of them with --org SOURCEDID")
    } else if message.contains("(map it as COLUMN=") {
        anyhow::anyhow!("{message}; say it with --map COLUMN=field, once per column")
    } else {
        e
    }
}

/// "1 class", "2 classes".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Asks on standard error; anything but y or yes (or no answer at all) is no.
fn ask(question: &str) -> Result<bool> {
    eprint!("{question}");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    let answer = answer.trim().to_lowercase();
    Ok(answer == "y" || answer == "yes")
}

/// The preview, as tables for people.
fn describe(preview: &ImportPreview) -> String {
    let mut text = format!(
        "Read as {}. {} to add, {} to rename; {} to add, {} to change, {} to deactivate, {} unchanged; {} refused.\n",
        preview.format,
        count(preview.classes_added.len(), "class", "classes"),
        preview.classes_renamed.len(),
        count(preview.added.len(), "learner", "learners"),
        preview.changed.len(),
        preview.deactivated.len(),
        preview.unchanged,
        count(preview.refused.len(), "row", "rows"),
    );
    if !preview.classes_added.is_empty() {
        text.push_str(&format!(
            "\nClasses to add: {}\n",
            preview.classes_added.join(", ")
        ));
    }
    for renamed in &preview.classes_renamed {
        text.push_str(&format!(
            "Class to rename: {} → {}\n",
            renamed.from, renamed.to
        ));
    }
    if !preview.added.is_empty() {
        let mut table = Table::new(&["NAME", "USERNAME", "EMAIL", "CLASSES"]);
        for added in &preview.added {
            let username = if added.username_made {
                format!("{} (made)", added.username)
            } else {
                added.username.clone()
            };
            table.row([
                format!("{} {}", added.given_name, added.family_name),
                username,
                added.email.clone().unwrap_or_default(),
                added.classes.join(", "),
            ]);
        }
        text.push_str("\nLearners to add:\n");
        text.push_str(&table.render());
    }
    if !preview.changed.is_empty() {
        let mut table = Table::new(&["USERNAME", "CHANGE"]);
        for changed in &preview.changed {
            let mut what: Vec<String> = changed
                .fields
                .iter()
                .map(|f| format!("{}: {} → {}", f.field, f.from, f.to))
                .collect();
            if changed.reactivated {
                what.push("reactivated".into());
            }
            if !changed.joins.is_empty() {
                what.push(format!("joins {}", changed.joins.join(", ")));
            }
            if !changed.leaves.is_empty() {
                what.push(format!("leaves {}", changed.leaves.join(", ")));
            }
            if what.is_empty() {
                what.push("takes the file's id".into());
            }
            table.row([changed.learner.username.clone(), what.join("; ")]);
        }
        text.push_str("\nLearners to change:\n");
        text.push_str(&table.render());
    }
    if !preview.deactivated.is_empty() {
        let mut table = Table::new(&["USERNAME", "NAME"]);
        for learner in &preview.deactivated {
            table.row([learner.username.as_str(), learner.name.as_str()]);
        }
        text.push_str(
            "\nLearners to deactivate (not in the file; their accounts and emails are kept):\n",
        );
        text.push_str(&table.render());
    }
    if !preview.staff_added.is_empty() {
        let mut table = Table::new(&["NAME", "USERNAME", "ROLE", "INVITATION", "CLASSES"]);
        for staff in &preview.staff_added {
            table.row([
                staff.name.clone(),
                staff.username.clone(),
                if staff.lead {
                    "lead teacher"
                } else {
                    "teacher"
                }
                .to_owned(),
                staff
                    .email
                    .clone()
                    .unwrap_or_else(|| "a link for you to hand over".to_owned()),
                staff.classes.join(", "),
            ]);
        }
        text.push_str("\nStaff to add (each chooses a password through their invitation):\n");
        text.push_str(&table.render());
    }
    if !preview.staff_changed.is_empty() {
        let mut table = Table::new(&["USERNAME", "STARTS TEACHING", "STOPS TEACHING"]);
        for staff in &preview.staff_changed {
            table.row([
                staff.username.clone(),
                staff.teaches.join(", "),
                staff.stops_teaching.join(", "),
            ]);
        }
        text.push_str("\nStaff whose classes change:\n");
        text.push_str(&table.render());
    }
    if !preview.refused.is_empty() {
        let mut table = Table::new(&["FILE", "LINE", "COLUMN", "REASON"]);
        for row in &preview.refused {
            table.row([
                row.file.clone(),
                row.line.map(|l| l.to_string()).unwrap_or_default(),
                row.column.clone().unwrap_or_default(),
                row.reason.clone(),
            ]);
        }
        text.push_str("\nRows refused (not imported):\n");
        text.push_str(&table.render());
    }
    for held in &preview.held {
        text.push_str(&format!("\nHeld: {held}.\n"));
    }
    text.push('\n');
    text
}

/// What applying did, in sentences.
fn outcome(applied: &ImportApplied) -> String {
    let mut text = if applied.changed_nothing() {
        "Imported: nothing changed.\n".to_owned()
    } else {
        format!(
            "Imported: {} added, {} renamed; {} added, {} changed, {} deactivated.\n",
            count(applied.classes_added, "class", "classes"),
            applied.classes_renamed,
            count(applied.added, "learner", "learners"),
            applied.changed,
            applied.deactivated
        )
    };
    if applied.staff_added + applied.staff_changed > 0 {
        text.push_str(&format!(
            "Staff: {} added, {} with classes changed.\n",
            applied.staff_added, applied.staff_changed
        ));
    }
    for invitation in &applied.invitations {
        match (&invitation.mailed_to, &invitation.link) {
            (Some(address), _) => text.push_str(&format!(
                "Invited {} ({}) by mail to {address}.\n",
                invitation.name, invitation.username
            )),
            (None, Some(link)) => text.push_str(&format!(
                "Hand this link to {} ({}) to choose a password; it works once, for {} days, and is not shown again:\n  {link}\n",
                invitation.name, invitation.username, INVITATION_LIFETIME_DAYS
            )),
            (None, None) => {}
        }
    }
    if !applied.skipped.is_empty() {
        text.push_str("Left out, because they changed since the preview:\n");
        for skipped in &applied.skipped {
            text.push_str(&format!("  {}: {}\n", skipped.who, skipped.reason));
        }
    }
    text
}
