//! `classkeys why`: the server's diagnosis of a learner who cannot sign in, each finding
//! followed by the command that applies its fix.

use anyhow::Result;
use classkeys_client::Client;
use classkeys_protocol::diagnosis::{Diagnosis, Fix, Severity};

use crate::args::LearnerRef;
use crate::error::Explained;
use crate::output::Output;
use crate::resolve::Resolver;

/// `classkeys why LEARNER`.
pub async fn why(client: &Client, args: LearnerRef, out: Output) -> Result<()> {
    let learner = Resolver::new(client).learner(&args.learner).await?;
    let diagnosis = client.learner_diagnosis(learner.id).await.explained()?;
    out.show(&diagnosis, || report(&diagnosis))
}

/// The diagnosis as text: a line per check, its sentence indented below, then its fixes.
fn report(diagnosis: &Diagnosis) -> String {
    let problems = diagnosis.problems().count();
    let mut lines = vec![format!(
        "Why can't {} ({}) sign in? {}",
        diagnosis.name,
        diagnosis.username,
        match problems {
            0 => "Nothing found that stops them.".to_owned(),
            1 => "1 problem found.".to_owned(),
            n => format!("{n} problems found."),
        }
    )];
    for finding in &diagnosis.findings {
        let mark = match finding.severity {
            Severity::Problem => "PROBLEM",
            Severity::Warning => "CHECK",
            Severity::Fine => "ok",
        };
        lines.push(String::new());
        lines.push(format!("{mark:<8}{}", finding.heading));
        lines.push(format!("        {}", finding.says));
        for fix in finding.fixes.iter().filter_map(|f| command(f, diagnosis)) {
            lines.push(format!("        fix: {fix}"));
        }
    }
    lines.join("\n")
}

/// The command line that applies `fix`, if it takes one.
fn command(fix: &Fix, diagnosis: &Diagnosis) -> Option<String> {
    let who = &diagnosis.username;
    Some(match fix {
        Fix::Reactivate => format!("classkeys learner reactivate {who}"),
        Fix::Unlock => format!("classkeys learner unlock {who}"),
        Fix::SendSignInLink => format!(
            "classkeys message --learner {who} --subject \"Sign in\" --body-file FILE \
             (a text with [loginLink] where their link goes)"
        ),
        Fix::SendResetLink => format!("classkeys learner reset-link {who}"),
        Fix::ResetPassword => format!("classkeys reset --learner {who}"),
        Fix::EditEmail => format!("classkeys learner edit {who} --email ADDRESS"),
        Fix::MoveEmail { from_username, .. } => {
            format!("classkeys email move --from {from_username} --to {who}")
        }
        // The finding's sentence holds the address already.
        Fix::CopySignInPage => return None,
    })
}
