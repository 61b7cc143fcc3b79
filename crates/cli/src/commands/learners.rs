//! `classkeys learners` and `classkeys learner …`: listing learners, adding, editing,
//! moving, enrolling and deactivating them.

use std::collections::HashSet;

use anyhow::Result;
use classkeys_client::Client;
use classkeys_domain::identity::{Email, FamilyName, GivenName, Username};
use classkeys_protocol::roster::{
    LearnerMove, LearnerPatch, LearnerQuery, LearnerRecord, NewLearner,
};

use crate::args::{LearnerCommand, LearnersArgs};
use crate::error::{Explained, invalid};
use crate::output::{LearnerView, Output, learners_table};
use crate::resolve::{PAGE_SIZE, Resolver};

/// Prints every learner the admin can see (or those of one class, or those matching a
/// search), fetching page after page until the server has no more.
pub async fn list(client: &Client, args: LearnersArgs, out: Output) -> Result<()> {
    let mut resolve = Resolver::new(client);
    let class_id = match &args.class {
        Some(name) => Some(resolve.class(name).await?.id),
        None => None,
    };
    let mut query = LearnerQuery {
        q: args.search.filter(|q| !q.trim().is_empty()),
        class_id,
        include_inactive: Some(true),
        offset: Some(0),
        limit: Some(PAGE_SIZE),
    };
    let mut learners: Vec<LearnerRecord> = Vec::new();
    // Offsets shift when someone adds or removes a learner while we page; a learner seen on
    // two pages is listed once.
    let mut seen = HashSet::new();
    loop {
        let page = client.learners(&query).await.explained()?;
        let got = page.items.len() as u32;
        learners.extend(page.items.into_iter().filter(|l| seen.insert(l.id)));
        let next = page.offset.saturating_add(got);
        if got == 0 || i64::from(next) >= page.total {
            break;
        }
        query.offset = Some(next);
    }
    let mut views = Vec::with_capacity(learners.len());
    for l in &learners {
        views.push(LearnerView::new(l, resolve.class_names(&l.classes).await?));
    }
    out.show(&views, || learners_table(&views))
}

/// Runs one `classkeys learner …` command.
pub async fn run(client: &Client, command: LearnerCommand, out: Output) -> Result<()> {
    let mut resolve = Resolver::new(client);
    match command {
        LearnerCommand::Add(args) => {
            let given =
                GivenName::parse(&args.given_name).map_err(|e| invalid("--given-name", e))?;
            let family =
                FamilyName::parse(&args.family_name).map_err(|e| invalid("--family-name", e))?;
            let username = args
                .username
                .as_deref()
                .map(Username::parse)
                .transpose()
                .map_err(|e| invalid("--username", e))?;
            let email = args
                .email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(|e| invalid("--email", e))?;
            let mut classes = Vec::new();
            for name in &args.classes {
                let id = resolve.class(name).await?.id;
                if !classes.contains(&id) {
                    classes.push(id);
                }
            }
            let new = NewLearner {
                id: None,
                given_name: given.as_str().to_owned(),
                family_name: family.as_str().to_owned(),
                username: username.map(|u| u.as_str().to_owned()),
                email: email.map(|e| e.as_str().to_owned()),
                classes,
            };
            let learner = client.learner_create(&new).await.explained()?;
            let view = view(&mut resolve, &learner).await?;
            out.show(&view, || {
                format!(
                    "Added learner {} ({}) to {}",
                    view.username,
                    view.full_name(),
                    view.classes.join(", ")
                )
            })
        }
        LearnerCommand::Edit(args) => {
            // Checked before anything is sent; based on a version once the learner is found.
            let mut patch = LearnerPatch {
                given_name: args
                    .given_name
                    .as_deref()
                    .map(|g| GivenName::parse(g).map(|g| g.as_str().to_owned()))
                    .transpose()
                    .map_err(|e| invalid("--given-name", e))?,
                family_name: args
                    .family_name
                    .as_deref()
                    .map(|f| FamilyName::parse(f).map(|f| f.as_str().to_owned()))
                    .transpose()
                    .map_err(|e| invalid("--family-name", e))?,
                username: args
                    .username
                    .as_deref()
                    .map(|u| Username::parse(u).map(|u| u.as_str().to_owned()))
                    .transpose()
                    .map_err(|e| invalid("--username", e))?,
                email: match (&args.email, args.no_email) {
                    (_, true) => Some(None),
                    (Some(e), false) => Some(Some(
                        Email::parse(e)
                            .map_err(|e| invalid("--email", e))?
                            .as_str()
                            .to_owned(),
                    )),
                    (None, false) => None,
                },
                base_version: None,
            };
            let before = resolve.learner(&args.learner).await?;
            // A change someone made since this lookup is reported as a conflict instead of
            // being overwritten.
            patch.base_version = Some(before.version);
            let learner = client.learner_update(before.id, &patch).await.explained()?;
            let view = view(&mut resolve, &learner).await?;
            out.show(&view, || {
                let mut line = format!("Updated learner {} ({})", view.username, view.full_name());
                if before.username != view.username {
                    line.push_str(&format!(", formerly {}", before.username));
                }
                line
            })
        }
        LearnerCommand::Move(args) => {
            let learner = resolve.learner(&args.learner).await?;
            let from = resolve.class(&args.from).await?;
            let to = resolve.class(&args.to).await?;
            let request = LearnerMove {
                from: from.id,
                to: to.id,
                base_version: Some(learner.version),
            };
            let moved = client
                .learner_move(learner.id, &request)
                .await
                .explained()?;
            let view = view(&mut resolve, &moved).await?;
            out.show(&view, || {
                format!("Moved {} from {} to {}", view.username, from.name, to.name)
            })
        }
        LearnerCommand::Enrol(args) => {
            let learner = resolve.learner(&args.learner).await?;
            let class = resolve.class(&args.class).await?;
            let enrolled = client
                .learner_enrol(learner.id, class.id)
                .await
                .explained()?;
            let view = view(&mut resolve, &enrolled).await?;
            out.show(&view, || {
                format!("Enrolled {} in {}", view.username, class.name)
            })
        }
        LearnerCommand::Unenrol(args) => {
            let learner = resolve.learner(&args.learner).await?;
            let class = resolve.class(&args.class).await?;
            let unenrolled = client
                .learner_unenrol(learner.id, class.id)
                .await
                .explained()?;
            // `None`: that was the learner's last class of the caller's, so the server no
            // longer shows them to the caller; report what is known without that class.
            let still_visible = unenrolled.is_some();
            let after = unenrolled.unwrap_or_else(|| {
                let mut gone = learner.clone();
                gone.classes.retain(|c| *c != class.id);
                gone
            });
            let view = view(&mut resolve, &after).await?;
            out.show(&view, || {
                if still_visible {
                    format!("Took {} out of {}", view.username, class.name)
                } else {
                    format!(
                        "Took {} out of {}; they are no longer in any of your classes",
                        view.username, class.name
                    )
                }
            })
        }
        LearnerCommand::Deactivate(args) => {
            let learner = resolve.learner(&args.learner).await?;
            let changed = client
                .learner_set_active(learner.id, false, Some(learner.version))
                .await
                .explained()?;
            let view = view(&mut resolve, &changed).await?;
            out.show(&view, || {
                format!(
                    "Deactivated {} ({}): they can no longer sign in",
                    view.username,
                    view.full_name()
                )
            })
        }
        LearnerCommand::Reactivate(args) => {
            let learner = resolve.learner(&args.learner).await?;
            let changed = client
                .learner_set_active(learner.id, true, Some(learner.version))
                .await
                .explained()?;
            let view = view(&mut resolve, &changed).await?;
            out.show(&view, || {
                format!(
                    "Reactivated {} ({}): they can sign in again",
                    view.username,
                    view.full_name()
                )
            })
        }
        LearnerCommand::Unlock(args) => {
            let learner = resolve.learner(&args.learner).await?;
            let unlocked = client.learner_unlock(learner.id).await.explained()?;
            out.show(&unlocked, || match unlocked.was_locked {
                true => format!(
                    "Unlocked {}: they can sign in again with their password",
                    learner.username
                ),
                false => format!(
                    "{} was not waiting; their wrong passwords are forgotten",
                    learner.username
                ),
            })
        }
        LearnerCommand::ResetLink(args) => {
            let learner = resolve.learner(&args.learner).await?;
            let sent = client.learner_reset_link(learner.id).await.explained()?;
            out.show(&sent, || {
                format!(
                    "Sent {} a link to choose a new password, to {}. It works once, for 2 \
                     hours; earlier links no longer work.",
                    learner.username, sent.to
                )
            })
        }
    }
}

async fn view(resolve: &mut Resolver<'_>, learner: &LearnerRecord) -> Result<LearnerView> {
    Ok(LearnerView::new(
        learner,
        resolve.class_names(&learner.classes).await?,
    ))
}
