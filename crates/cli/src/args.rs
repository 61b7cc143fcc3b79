//! The command line's grammar (clap derive): every command, flag and argument, with the help
//! text an IT admin reads. Parsing only — no validation beyond what clap does; values are
//! checked against the domain rules where each command uses them.

use clap::{ArgGroup, Args, Parser, Subcommand};

/// Manage a ClassKeys school server from the command line: classes, learners, teachers.
///
/// Sign in once with `classkeys login`; later commands use the stored session. The session
/// token is kept in the operating system's credential store, or in the file named by
/// CLASSKEYS_TOKEN_FILE when that is set (for servers and scripts without a credential store).
#[derive(Debug, Parser)]
#[command(name = "classkeys", version)]
pub struct Cli {
    /// Print data as JSON instead of tables and sentences.
    #[arg(long, global = true)]
    pub json: bool,

    /// Talk to a server over plain http:// on another computer. Passwords and access codes
    /// then cross the network unencrypted: only on a network you trust. Without it, http://
    /// is accepted only for this computer itself.
    #[arg(long, global = true, env = "CLASSKEYS_ALLOW_INSECURE_HTTP")]
    pub allow_insecure_http: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to a server and remember the session.
    ///
    /// The password is read from CLASSKEYS_PASSWORD when set, otherwise asked for without
    /// echo.
    Login(LoginArgs),
    /// End the session on the server and forget it on this computer.
    Logout,
    /// List the classes you can see.
    Classes,
    /// List the learners you can see.
    Learners(LearnersArgs),
    /// Add, edit, move, enrol or deactivate one learner.
    #[command(subcommand)]
    Learner(LearnerCommand),
    /// Create, rename, staff, archive or delete one class.
    #[command(subcommand)]
    Class(ClassCommand),
    /// Set one learner's password, or every password of a class.
    ///
    /// New passwords are printed once; teacher-set passwords can be shown again with
    /// `classkeys codes --reveal`. Every reset is recorded in the audit log.
    Reset(ResetArgs),
    /// Show a class's access codes: usernames, parent access codes and, with --reveal,
    /// passwords (recorded in the audit log).
    Codes(CodesArgs),
    /// Download access codes as a CSV file (UTF-8 with BOM, safe to open in a spreadsheet).
    ///
    /// `--school` (lead teachers only) asks for your password again, from CLASSKEYS_PASSWORD
    /// or the terminal.
    Export(ExportArgs),
    /// Make a print-ready PDF of a class's login cards (8 per page).
    Cards(CardsArgs),
    /// Show the audit log: reveals, resets, exports and card prints, newest first.
    Audit(AuditArgs),
    /// Send learners a message by mail. Each `[loginLink]` in the text becomes the
    /// recipient's own sign-in link (it works once); your copy (--cc-me) keeps the tag.
    Message(MessageArgs),
    /// Find out why a learner cannot sign in: every check, problems first, each with the
    /// command that fixes it.
    Why(LearnerRef),
    /// List learners who may be one person with two accounts: the same name in a class (or
    /// left behind deactivated), or email addresses that differ only by capitals, dots or
    /// one letter.
    Duplicates,
    /// Email addresses of learners.
    #[command(subcommand)]
    Email(EmailCommand),
    /// Import the school's classes and learners from its information system (lead teachers
    /// only): a OneRoster 1.1 or 1.2 CSV zip, or a spreadsheet's CSV of learners.
    ///
    /// Prints what would be added, changed, enrolled, moved and deactivated (never deleted),
    /// and the rows that cannot be imported with their file, line and column; then asks
    /// before applying. Importing the same file again changes nothing.
    Import(ImportArgs),
}

/// `classkeys import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The roster file: a OneRoster zip or a CSV.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// Only show what would change.
    #[arg(long)]
    pub dry_run: bool,
    /// How to read the file; recognised from its content when left out.
    #[arg(long, value_name = "FORMAT", value_parser = ["oneroster", "csv"])]
    pub format: Option<String>,
    /// For a OneRoster export of several schools: the sourcedId of the one to import.
    #[arg(long, value_name = "SOURCEDID")]
    pub org: Option<String>,
    /// For a spreadsheet whose column names are not recognised: which column holds which
    /// field (id, given_name, family_name, class, username, email). Once per column:
    /// --map Vorname=given_name --map Nachname=family_name.
    #[arg(long, value_name = "COLUMN=FIELD")]
    pub map: Vec<String>,
    /// Apply without asking (for scripts).
    #[arg(long, conflicts_with = "dry_run")]
    pub yes: bool,
    /// Apply an import that the guards hold (one that deactivates more than a tenth of
    /// the school's learners, or renames many): with --yes, for scripts that mean it.
    #[arg(long, requires = "yes")]
    pub confirm_held: bool,
}

/// `classkeys email …`.
#[derive(Debug, Subcommand)]
pub enum EmailCommand {
    /// Move a learner's email address to another learner, in one step (recorded in the
    /// audit log). The learner it leaves is deactivated when it is the same learner's other
    /// account (the same name); the address replaces any the receiving learner had.
    Move(EmailMoveArgs),
}

/// `classkeys email move`.
#[derive(Debug, Args)]
pub struct EmailMoveArgs {
    /// The learner who holds the address now (username or id).
    #[arg(long, value_name = "LEARNER")]
    pub from: String,
    /// The learner who gets it (username or id).
    #[arg(long, value_name = "LEARNER")]
    pub to: String,
}

/// `classkeys login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server's address, for example `https://keys.school.example`
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// Your staff username.
    #[arg(long, value_name = "USERNAME")]
    pub username: String,
    /// The school's short name; needed only when the server hosts several schools.
    #[arg(long, value_name = "SLUG")]
    pub school: Option<String>,
}

/// `classkeys learners`.
#[derive(Debug, Args)]
pub struct LearnersArgs {
    /// Only learners of this class (name or id).
    #[arg(long, value_name = "CLASS")]
    pub class: Option<String>,
    /// Only learners whose names, username or email contain these words (accents and case
    /// do not matter).
    #[arg(long, value_name = "WORDS")]
    pub search: Option<String>,
}

/// `classkeys learner …`. LEARNER is a username or a learner id.
#[derive(Debug, Subcommand)]
pub enum LearnerCommand {
    /// Add a learner to one or more classes.
    Add(LearnerAddArgs),
    /// Change a learner's names, username or email.
    Edit(LearnerEditArgs),
    /// Move a learner from one class to another.
    Move(LearnerMoveArgs),
    /// Enrol a learner in a further class.
    Enrol(LearnerClassArgs),
    /// Take a learner out of a class.
    Unenrol(LearnerClassArgs),
    /// Stop a learner from signing in (they keep their username and email).
    Deactivate(LearnerRef),
    /// Let a deactivated learner sign in again.
    Reactivate(LearnerRef),
    /// Lift a learner's wait after too many wrong passwords (their password stays).
    Unlock(LearnerRef),
    /// Mail a learner a link to choose a new password (only the newest link works).
    ResetLink(LearnerRef),
}

/// `classkeys learner add`.
#[derive(Debug, Args)]
pub struct LearnerAddArgs {
    /// A class to enrol the learner in (name or id); repeat for several.
    #[arg(long = "class", value_name = "CLASS", required = true)]
    pub classes: Vec<String>,
    /// Given (first) name.
    #[arg(long, value_name = "NAME")]
    pub given_name: String,
    /// Family name.
    #[arg(long, value_name = "NAME")]
    pub family_name: String,
    /// Username; the server suggests one from the names when left out.
    #[arg(long, value_name = "USERNAME")]
    pub username: Option<String>,
    /// Email address.
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
}

/// `classkeys learner edit`.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("change")
        .args(["given_name", "family_name", "username", "email", "no_email"])
        .required(true)
        .multiple(true)
))]
pub struct LearnerEditArgs {
    /// The learner: username or id.
    pub learner: String,
    /// New given (first) name.
    #[arg(long, value_name = "NAME")]
    pub given_name: Option<String>,
    /// New family name.
    #[arg(long, value_name = "NAME")]
    pub family_name: Option<String>,
    /// New username.
    #[arg(long, value_name = "USERNAME")]
    pub username: Option<String>,
    /// New email address.
    #[arg(long, value_name = "EMAIL", conflicts_with = "no_email")]
    pub email: Option<String>,
    /// Remove the learner's email address.
    #[arg(long)]
    pub no_email: bool,
}

/// `classkeys learner move`.
#[derive(Debug, Args)]
pub struct LearnerMoveArgs {
    /// The learner: username or id.
    pub learner: String,
    /// The class the learner leaves (name or id).
    #[arg(long, value_name = "CLASS")]
    pub from: String,
    /// The class the learner joins (name or id).
    #[arg(long, value_name = "CLASS")]
    pub to: String,
}

/// `classkeys learner enrol` and `unenrol`.
#[derive(Debug, Args)]
pub struct LearnerClassArgs {
    /// The learner: username or id.
    pub learner: String,
    /// The class (name or id).
    #[arg(long, value_name = "CLASS")]
    pub class: String,
}

/// A command that names one learner and nothing else.
#[derive(Debug, Args)]
pub struct LearnerRef {
    /// The learner: username or id.
    pub learner: String,
}

/// `classkeys class …`. CLASS is a class name (case does not matter) or a class id.
#[derive(Debug, Subcommand)]
pub enum ClassCommand {
    /// Create a class (lead teachers).
    Add(ClassAddArgs),
    /// Rename a class.
    Rename(ClassRenameArgs),
    /// Make a member of staff one of the class's teachers (lead teachers).
    Assign(ClassTeacherArgs),
    /// Take a teacher off the class (lead teachers).
    Unassign(ClassTeacherArgs),
    /// Archive a class: it keeps its learners but is no longer taught (lead teachers).
    Archive(ClassRef),
    /// Bring an archived class back (lead teachers).
    Restore(ClassRef),
    /// Delete an empty class (lead teachers).
    Delete(ClassRef),
}

/// `classkeys class add`.
#[derive(Debug, Args)]
pub struct ClassAddArgs {
    /// The new class's name, unique within the school ignoring case.
    pub name: String,
    /// Year group label, for example "Year 4".
    #[arg(long, value_name = "LABEL")]
    pub year_group: Option<String>,
}

/// `classkeys class rename`.
#[derive(Debug, Args)]
pub struct ClassRenameArgs {
    /// The class (name or id).
    pub class: String,
    /// Its new name.
    pub new_name: String,
}

/// `classkeys class assign` and `unassign`.
#[derive(Debug, Args)]
pub struct ClassTeacherArgs {
    /// The class (name or id).
    pub class: String,
    /// The teacher's staff username.
    #[arg(long, value_name = "USERNAME")]
    pub teacher: String,
}

/// A command that names one class and nothing else.
#[derive(Debug, Args)]
pub struct ClassRef {
    /// The class (name or id).
    pub class: String,
}

/// `classkeys reset`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("whom").args(["learner", "class"]).required(true)))]
pub struct ResetArgs {
    /// The learner: username, or a name or email that finds exactly one.
    #[arg(long, value_name = "LEARNER")]
    pub learner: Option<String>,
    /// The class: every active learner in it, all or none.
    #[arg(long, value_name = "CLASS", requires = "mode")]
    pub class: Option<String>,
    /// For a class: one password for everyone (`same`) or a new one each (`individual`).
    #[arg(long, value_name = "MODE", value_parser = ["same", "individual"])]
    pub mode: Option<String>,
    /// Generate the password (the default when no password is given).
    #[arg(long, conflicts_with = "password_stdin")]
    pub generate: bool,
    /// The style of generated passwords: words, pronounceable, pin or random. Default: the
    /// style for the class's age band.
    #[arg(long, value_name = "STYLE", conflicts_with = "password_stdin")]
    pub style: Option<String>,
    /// Read the password to set from standard input (the first line); it is checked against
    /// the school's password rules.
    #[arg(long)]
    pub password_stdin: bool,
    /// The learner must choose a new password at their next sign-in.
    #[arg(long)]
    pub must_change: bool,
}

/// `classkeys message`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("to").args(["class", "learner"]).required(true).multiple(true)))]
pub struct MessageArgs {
    /// Every active learner of this class (name or id).
    #[arg(long, value_name = "CLASS")]
    pub class: Option<String>,
    /// This learner (username or id); repeat for several.
    #[arg(long, value_name = "USERNAME")]
    pub learner: Vec<String>,
    /// The subject line.
    #[arg(long, value_name = "TEXT")]
    pub subject: String,
    /// The file holding the message's text (UTF-8); `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub body_file: std::path::PathBuf,
    /// Send yourself a copy (with the literal `[loginLink]`, which signs nobody in).
    #[arg(long)]
    pub cc_me: bool,
}

/// `classkeys codes`.
#[derive(Debug, Args)]
pub struct CodesArgs {
    /// The class.
    #[arg(long, value_name = "CLASS")]
    pub class: String,
    /// Show the passwords too (recorded in the audit log).
    #[arg(long)]
    pub reveal: bool,
}

/// `classkeys export`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").args(["class", "school", "roster"]).required(true)))]
pub struct ExportArgs {
    /// One class's access codes.
    #[arg(long, value_name = "CLASS")]
    pub class: Option<String>,
    /// The whole school's access codes (lead teachers only).
    #[arg(long)]
    pub school: bool,
    /// With --school: the student database (names, usernames, emails, classes) instead of
    /// access codes.
    #[arg(long, requires = "school")]
    pub students: bool,
    /// The school's roster — classes, learners, staff, who is in and who teaches each —
    /// as a OneRoster 1.2 CSV zip, no passwords (lead teachers only). `classkeys import`
    /// reads it back as the same records.
    #[arg(long)]
    pub roster: bool,
    /// With --roster: the file's format.
    #[arg(long, requires = "roster", value_parser = ["oneroster"], default_value = "oneroster")]
    pub format: String,
    /// The file to write; written whole or not at all, readable only by you.
    #[arg(long, value_name = "FILE")]
    pub out: std::path::PathBuf,
}

/// `classkeys cards`.
#[derive(Debug, Args)]
pub struct CardsArgs {
    /// The class.
    #[arg(long, value_name = "CLASS")]
    pub class: String,
    /// The PDF file to write.
    #[arg(long, value_name = "FILE")]
    pub out: std::path::PathBuf,
    /// Paper size: a4 or letter.
    #[arg(long, value_name = "PAPER", default_value = "a4")]
    pub paper: String,
}

/// `classkeys audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries about this learner.
    #[arg(long, value_name = "LEARNER")]
    pub learner: Option<String>,
    /// How many entries, newest first.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn edit_needs_something_to_change_and_refuses_email_with_no_email() {
        assert!(Cli::try_parse_from(["classkeys", "learner", "edit", "zoe"]).is_err());
        assert!(
            Cli::try_parse_from([
                "classkeys",
                "learner",
                "edit",
                "zoe",
                "--email",
                "z@s.example",
                "--no-email"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["classkeys", "learner", "edit", "zoe", "--no-email"]).is_ok());
    }

    #[test]
    fn json_flag_works_after_the_subcommand() {
        let cli = Cli::try_parse_from(["classkeys", "learner", "deactivate", "zoe", "--json"])
            .expect("parses");
        assert!(cli.json);
    }
}
