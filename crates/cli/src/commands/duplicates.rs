//! `classkeys duplicates` and `classkeys email move`: finding learners with two accounts,
//! and putting an email address on the account the learner uses.

use anyhow::Result;
use classkeys_client::Client;
use classkeys_protocol::diagnosis::Resemblance;
use classkeys_protocol::roster::{DuplicateList, EmailMove, LearnerRecord};

use crate::args::EmailCommand;
use crate::error::Explained;
use crate::output::Output;
use crate::resolve::Resolver;

/// `classkeys duplicates`.
pub async fn list(client: &Client, out: Output) -> Result<()> {
    let list = client.learner_duplicates().await.explained()?;
    out.show(&list, || report(&list))
}

/// `classkeys email …`.
pub async fn email(client: &Client, command: EmailCommand, out: Output) -> Result<()> {
    match command {
        EmailCommand::Move(args) => {
            let resolve = Resolver::new(client);
            let from = resolve.learner(&args.from).await?;
            let to = resolve.learner(&args.to).await?;
            let moved = client
                .learner_email_move(
                    to.id,
                    &EmailMove {
                        from: from.id,
                        base_version: Some(to.version),
                    },
                )
                .await
                .explained()?;
            out.show(&moved, || {
                let mut text = format!(
                    "Moved {} from {} to {}.",
                    moved.learner.email.as_deref().unwrap_or_default(),
                    moved.from.username,
                    moved.learner.username
                );
                if from.active && !moved.from.active {
                    text.push_str(&format!(
                        " {} was the same learner's other account and is now deactivated.",
                        moved.from.username
                    ));
                }
                text
            })
        }
    }
}

fn report(list: &DuplicateList) -> String {
    if list.pairs.is_empty() {
        return "No likely duplicates among the learners you can see.".to_owned();
    }
    let mut lines = Vec::new();
    for pair in &list.pairs {
        let why = match pair.resemblance {
            Resemblance::SameName if pair.shared_class => "same name, same class",
            Resemblance::SameName => "same name, one deactivated",
            Resemblance::EmailCase => "emails differ only by capitals",
            Resemblance::EmailDots => "emails differ only by dots",
            Resemblance::EmailOneLetter => "emails differ by one letter",
        };
        lines.push(format!("{why}:"));
        for learner in [&pair.first, &pair.second] {
            lines.push(format!("  {}", describe(learner)));
        }
        if pair.first.email.is_some() && pair.second.email.is_none() {
            lines.push(format!(
                "  to move the address: classkeys email move --from {} --to {}",
                pair.first.username, pair.second.username
            ));
        }
    }
    if list.truncated {
        lines.push(format!(
            "… and more: only the first {} pairs are listed.",
            list.pairs.len()
        ));
    }
    lines.join("\n")
}

fn describe(learner: &LearnerRecord) -> String {
    format!(
        "{:<20} {} {}{}{}",
        learner.username,
        learner.given_name,
        learner.family_name,
        learner
            .email
            .as_deref()
            .map(|e| format!(", {e}"))
            .unwrap_or_default(),
        if learner.active { "" } else { " (deactivated)" }
    )
}
