//! `classkeys classes` and `classkeys class …`: listing classes, creating, renaming,
//! staffing, archiving and deleting them.

use anyhow::Result;
use classkeys_client::Client;
use classkeys_domain::identity::{ClassName, YearGroup};
use classkeys_protocol::roster::{ClassPatch, ClassRecord, NewClass, StaffRecord};

use crate::args::{ClassCommand, ClassTeacherArgs};
use crate::error::{Explained, invalid};
use crate::output::{ClassView, Deleted, Output, classes_table};
use crate::resolve::Resolver;

/// Prints the classes the admin can see, by name.
pub async fn list(client: &Client, out: Output) -> Result<()> {
    let mut classes = client.classes().await.explained()?;
    classes.sort_by_cached_key(|c| c.name.to_lowercase());
    let views: Vec<ClassView> = classes.iter().map(ClassView::from).collect();
    out.show(&views, || classes_table(&views))
}

/// Runs one `classkeys class …` command.
pub async fn run(client: &Client, command: ClassCommand, out: Output) -> Result<()> {
    let mut resolve = Resolver::new(client);
    match command {
        ClassCommand::Add(args) => {
            let name = ClassName::parse(&args.name).map_err(|e| invalid("NAME", e))?;
            let year_group = args
                .year_group
                .as_deref()
                .map(YearGroup::parse)
                .transpose()
                .map_err(|e| invalid("--year-group", e))?;
            let new = NewClass {
                id: None,
                name: name.as_str().to_owned(),
                year_group: year_group.map(|y| y.as_str().to_owned()),
            };
            let class = client.class_create(&new).await.explained()?;
            report(out, &class, || match &class.year_group {
                Some(y) => format!("Created class {} ({y})", class.name),
                None => format!("Created class {}", class.name),
            })
        }
        ClassCommand::Rename(args) => {
            let class = resolve.class(&args.class).await?;
            let name = ClassName::parse(&args.new_name).map_err(|e| invalid("NEW_NAME", e))?;
            let patch = ClassPatch {
                name: Some(name.as_str().to_owned()),
                ..ClassPatch::default()
            };
            let renamed = client.class_update(class.id, &patch).await.explained()?;
            report(out, &renamed, || {
                format!("Renamed class {} to {}", class.name, renamed.name)
            })
        }
        ClassCommand::Assign(args) => {
            let (class, staff) = teacher(&mut resolve, &args).await?;
            let class = client
                .class_assign_teacher(class.id, staff.id)
                .await
                .explained()?;
            report(out, &class, || {
                format!(
                    "Assigned {} ({}) to class {}",
                    staff.username, staff.display_name, class.name
                )
            })
        }
        ClassCommand::Unassign(args) => {
            let (class, staff) = teacher(&mut resolve, &args).await?;
            let class = client
                .class_unassign_teacher(class.id, staff.id)
                .await
                .explained()?;
            report(out, &class, || {
                format!(
                    "Took {} ({}) off class {}",
                    staff.username, staff.display_name, class.name
                )
            })
        }
        ClassCommand::Archive(args) => {
            let class = set_archived(client, &mut resolve, &args.class, true).await?;
            report(out, &class, || {
                format!(
                    "Archived class {}; its learners keep their accounts",
                    class.name
                )
            })
        }
        ClassCommand::Restore(args) => {
            let class = set_archived(client, &mut resolve, &args.class, false).await?;
            report(out, &class, || format!("Restored class {}", class.name))
        }
        ClassCommand::Delete(args) => {
            let class = resolve.class(&args.class).await?;
            client.class_delete(class.id).await.explained()?;
            let deleted = Deleted {
                id: class.id,
                name: class.name,
                deleted: true,
            };
            out.show(&deleted, || format!("Deleted class {}", deleted.name))
        }
    }
}

/// The class and the member of staff named by `assign` / `unassign`. The class comes first,
/// so a teacher who names someone else's class hears about the class, not the staff list.
async fn teacher(
    resolve: &mut Resolver<'_>,
    args: &ClassTeacherArgs,
) -> Result<(ClassRecord, StaffRecord)> {
    let class = resolve.class(&args.class).await?;
    // Only lead teachers may list staff, and only they may assign teachers: a refusal of the
    // list is really a refusal of the assignment, so say that rather than "staff list".
    let staff = match resolve.staff(&args.teacher).await {
        Err(e) if e.to_string().starts_with("permission denied") => {
            anyhow::bail!("permission denied: only lead teachers can assign teachers to classes")
        }
        other => other?,
    };
    Ok((class, staff))
}

async fn set_archived(
    client: &Client,
    resolve: &mut Resolver<'_>,
    wanted: &str,
    archived: bool,
) -> Result<ClassRecord> {
    let class = resolve.class(wanted).await?;
    let patch = ClassPatch {
        archived: Some(archived),
        ..ClassPatch::default()
    };
    client.class_update(class.id, &patch).await.explained()
}

fn report(out: Output, class: &ClassRecord, text: impl FnOnce() -> String) -> Result<()> {
    out.show(&ClassView::from(class), text)
}
