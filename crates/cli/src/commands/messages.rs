//! `classkeys message`: a message to learners by mail, each `[loginLink]` becoming the
//! recipient's own sign-in link.

use std::io::Read;

use anyhow::{Context, Result, anyhow};
use classkeys_client::Client;
use classkeys_protocol::messages::{MAX_BODY_CHARS, MessageReport, NewMessage};

use crate::args::MessageArgs;
use crate::error::Explained;
use crate::output::Output;
use crate::resolve::Resolver;

/// The most bytes read from a message file: far more than the longest message accepted,
/// and no more, so a wrong file (a video) is refused quickly.
const MOST_BYTES: u64 = 4 * MAX_BODY_CHARS as u64 + 1;

/// `classkeys message`.
pub async fn send(client: &Client, args: MessageArgs, out: Output) -> Result<()> {
    let body = read_body(&args.body_file)?;
    let mut resolve = Resolver::new(client);
    let class_id = match &args.class {
        Some(name) => Some(resolve.class(name).await?.id),
        None => None,
    };
    let mut learner_ids = Vec::new();
    for wanted in &args.learner {
        learner_ids.push(resolve.learner(wanted).await?.id);
    }
    let report = client
        .message_send(&NewMessage {
            class_id,
            learner_ids,
            subject: args.subject,
            body,
            cc_me: args.cc_me,
        })
        .await
        .explained()?;
    out.show(&report, || summary(&report, args.cc_me))
}

/// The message's text from `path` (`-`: standard input), as UTF-8.
fn read_body(path: &std::path::Path) -> Result<String> {
    let mut bytes = Vec::new();
    let shown = path.display();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MOST_BYTES)
            .read_to_end(&mut bytes)
            .context("reading the message from standard input")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(MOST_BYTES).read_to_end(&mut bytes))
            .with_context(|| format!("reading the message from {shown}"))?;
    }
    if bytes.len() as u64 >= MOST_BYTES {
        return Err(anyhow!(
            "{shown} is too long for a message: at most {MAX_BODY_CHARS} characters"
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow!("{shown} is not UTF-8 text: save it as UTF-8 (plain text) and try again")
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned())
}

fn summary(report: &MessageReport, cc_me: bool) -> String {
    let mut lines = vec![format!(
        "Sent to {} learner{}{}.",
        report.sent.len(),
        if report.sent.len() == 1 { "" } else { "s" },
        if report.with_links {
            ", each with their own sign-in link"
        } else {
            ""
        }
    )];
    if !report.not_reached.is_empty() {
        lines.push(format!(
            "Not reached ({}: no email address, or deactivated):",
            report.not_reached.len()
        ));
        for learner in &report.not_reached {
            lines.push(format!("  {} ({})", learner.name, learner.username));
        }
    }
    if cc_me {
        lines.push(if report.copy_sent {
            "A copy was sent to you.".to_owned()
        } else {
            "No copy was sent to you: your account has no email address.".to_owned()
        });
    }
    lines.join("\n")
}
