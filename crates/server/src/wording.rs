//! Every sentence the server puts in mail to learners, parents and staff, in one place, so
//! a translation can be added beside it.
//!
//! Mail is plain text: names are written as they are, never interpreted, so a name holding
//! HTML is just text in the reader's mail program.

/// A message's subject and body.
pub struct Text {
    pub title: String,
    pub body: String,
}

/// The answer to "I forgot my username" when an account uses the address.
pub fn username_reminder(school: &str, username: &str, sign_in_url: &str) -> Text {
    Text {
        title: format!("Your username at {school}"),
        body: format!(
            "Hello,\n\n\
             someone (we hope you) asked for the username that uses this email address at \
             {school}.\n\n\
             Your username is: {username}\n\n\
             Sign in here: {sign_in_url}\n\n\
             If you did not ask, you can ignore this message: nothing has changed.\n"
        ),
    }
}

/// The answer to "I forgot my username" when no account at the school uses the address.
pub fn no_account(school: &str, sign_in_url: &str) -> Text {
    Text {
        title: format!("No account at {school} uses this address"),
        body: format!(
            "Hello,\n\n\
             someone (we hope you) asked which username uses this email address at \
             {school}. No account there uses it.\n\n\
             Perhaps your school has another of your addresses, or none. Ask your teacher: \
             they can tell you your username and give you a new password.\n\n\
             The school's sign-in page: {sign_in_url}\n\n\
             If you did not ask, you can ignore this message.\n"
        ),
    }
}

/// The answer to "I forgot my password" for a learner: a sign-in link and a reset link.
pub fn learner_password_help(
    school: &str,
    given_name: &str,
    username: &str,
    sign_in_link: &str,
    sign_in_hours: u64,
    reset_link: &str,
) -> Text {
    Text {
        title: format!("Sign in to {school}"),
        body: format!(
            "Hello {given_name},\n\n\
             someone (we hope you) asked for help signing in to {school} as {username}.\n\n\
             To sign in now, open this link. It works once, for {sign_in_hours} hours, and \
             you can choose a new password when you are in:\n\
             {sign_in_link}\n\n\
             To choose a new password straight away, open this link. It works once, for 2 \
             hours; if you ask for help again, only the newest link works:\n\
             {reset_link}\n\n\
             If you did not ask, you can ignore this message: your password has not \
             changed.\n"
        ),
    }
}

/// The answer to "I forgot my password" for a member of staff: a reset link only (staff
/// sign in with the ClassKeys app, not on the school's pages).
pub fn staff_password_help(school: &str, display_name: &str, reset_link: &str) -> Text {
    Text {
        title: format!("Choose a new ClassKeys password for {school}"),
        body: format!(
            "Hello {display_name},\n\n\
             someone (we hope you) asked to choose a new ClassKeys staff password at \
             {school}.\n\n\
             Open this link to choose it. It works once, for 2 hours; if you ask again, \
             only the newest link works:\n\
             {reset_link}\n\n\
             Then sign in with the ClassKeys app as usual.\n\n\
             If you did not ask, you can ignore this message: your password has not \
             changed.\n"
        ),
    }
}

/// A new member of staff's invitation, from an import of the school's roster: they have
/// no password until they choose one with the link.
pub fn staff_invitation(
    school: &str,
    display_name: &str,
    username: &str,
    lead: &str,
    link: &str,
    days: u64,
) -> Text {
    Text {
        title: format!("Your ClassKeys account at {school}: choose your password"),
        body: format!(
            "Hello {display_name},\n\n\
             {lead} has added you to ClassKeys at {school}, where teachers manage their \
             learners' sign-ins. Your username is {username}.\n\n\
             Open this link to choose your password. It works once, for {days} days:\n\
             {link}\n\n\
             Then sign in with the ClassKeys app. If the link has stopped working, ask \
             {lead} for a new one, or use \"Forgot your password?\" in the app.\n"
        ),
    }
}

/// A link to choose a new password, sent to a learner by a teacher.
pub fn learner_reset_link(
    school: &str,
    given_name: &str,
    username: &str,
    teacher: &str,
    reset_link: &str,
) -> Text {
    Text {
        title: format!("Choose a new password for {school}"),
        body: format!(
            "Hello {given_name},\n\n\
             {teacher} sent you this link to choose a new password for {school}, where your \
             username is {username}.\n\n\
             Open it to choose your password. It works once, for 2 hours; if another link \
             is sent, only the newest one works:\n\
             {reset_link}\n\n\
             Your old password works until you choose a new one.\n"
        ),
    }
}
