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
