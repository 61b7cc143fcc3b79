//! Every sentence the school's pages show, in one place: a translation is another
//! [`Words`] beside [`EN`], and nothing else changes.
//!
//! Sentences that name something (the school, a username) are functions, so a translation
//! can put the name where its grammar wants it. Their results are escaped by the templates
//! like any other text.

/// The pages' sentences in one language.
pub struct Words {
    /// The `lang` attribute of every page.
    pub lang: &'static str,
    pub skip_to_content: &'static str,
    pub product: &'static str,

    pub find_title: &'static str,
    pub find_intro: &'static str,
    pub find_label: &'static str,
    pub find_button: &'static str,
    pub find_none: &'static str,
    pub find_too_short: &'static str,
    pub unknown_school: fn(&str) -> String,

    pub home_intro: &'static str,
    pub sign_in: &'static str,
    pub forgot: &'static str,
    pub parents_link: &'static str,

    pub sign_in_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub staff_use_app: &'static str,
    pub wrong_password: fn(&str) -> String,
    pub signed_out: &'static str,

    pub account_title: &'static str,
    pub your_name: &'static str,
    pub your_username: &'static str,
    pub your_classes: &'static str,
    pub no_classes: &'static str,
    pub change_password: &'static str,
    pub must_change: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub repeat_password: &'static str,
    pub passwords_differ: &'static str,
    pub save_password: &'static str,
    pub password_changed: &'static str,
    pub sign_out: &'static str,

    pub sign_up_title: &'static str,
    pub sign_up_text: &'static str,

    pub help_title: &'static str,
    pub help_intro: &'static str,
    pub forgot_username: &'static str,
    pub forgot_username_hint: &'static str,
    pub email: &'static str,
    pub send_username: &'static str,
    pub forgot_password: &'static str,
    pub forgot_password_hint: &'static str,
    pub send_links: &'static str,
    pub no_email: &'static str,
    pub sent_title: &'static str,
    pub sent_username: &'static str,
    pub sent_links: &'static str,
    pub check_spam: &'static str,
    pub back_to_sign_in: &'static str,

    pub reset_title: &'static str,
    pub reset_intro: fn(&str) -> String,
    pub reset_done_staff: &'static str,
    pub link_title: &'static str,
    pub link_intro: fn(&str) -> String,
    pub link_button: &'static str,
    pub link_superseded: &'static str,
    pub link_used: &'static str,
    pub link_expired: &'static str,
    pub link_unknown: &'static str,
    pub ask_again: &'static str,

    pub parents_title: &'static str,
    pub parents_intro: fn(&str) -> String,
    pub parents_qr: &'static str,
    pub parents_steps_heading: &'static str,
    pub parents_steps: [&'static str; 3],
    pub parents_forgot_username_heading: &'static str,
    pub parents_forgot_username: &'static str,
    pub parents_forgot_password_heading: &'static str,
    pub parents_forgot_password: &'static str,
    pub parents_safety: &'static str,
    pub parents_pdf_a4: &'static str,
    pub parents_pdf_letter: &'static str,

    pub expired_form: &'static str,
    pub form_too_large: &'static str,
    pub too_many: &'static str,
    pub busy: &'static str,
    pub failed: &'static str,
    pub not_found: &'static str,
}

/// English.
pub static EN: Words = Words {
    lang: "en",
    skip_to_content: "Skip to the main content",
    product: "ClassKeys",

    find_title: "Find your school",
    find_intro: "Type your school's name to find its sign-in page.",
    find_label: "School name",
    find_button: "Find",
    find_none: "No school has that name here. Check the spelling, or ask your teacher for your school's sign-in address.",
    find_too_short: "Type at least two letters of your school's name.",
    unknown_school: |slug| {
        format!("There is no school at the address “/s/{slug}/”. Find yours by its name:")
    },

    home_intro: "This is your school's sign-in page.",
    sign_in: "Sign in",
    forgot: "Forgot your username or password?",
    parents_link: "How to sign in (for parents)",

    sign_in_title: "Sign in",
    username: "Username",
    password: "Password",
    staff_use_app: "Teachers and other staff sign in with the ClassKeys app, not here.",
    wrong_password: |school| {
        format!("Wrong username or password. You are signing in to {school}: is this your school?")
    },
    signed_out: "You are signed out.",

    account_title: "My account",
    your_name: "Name",
    your_username: "Username",
    your_classes: "Classes",
    no_classes: "You are not in a class yet.",
    change_password: "Change your password",
    must_change: "Your teacher asked you to choose a new password before you go on.",
    current_password: "Current password",
    new_password: "New password",
    repeat_password: "New password again",
    passwords_differ: "The two new passwords are not the same: type the same password twice.",
    save_password: "Save the new password",
    password_changed: "Your password is changed. Use it next time you sign in.",
    sign_out: "Sign out",

    sign_up_title: "Accounts are made by your school",
    sign_up_text: "You cannot make an account here: your school makes one for every learner. Your teacher can tell you your username and password. If you already have them, sign in.",

    help_title: "Forgot your username or password?",
    help_intro: "We can send help to the email address your school has for you.",
    forgot_username: "I forgot my username",
    forgot_username_hint: "Type your email address. We send your username to it.",
    email: "Email address",
    send_username: "Send my username",
    forgot_password: "I forgot my password",
    forgot_password_hint: "Type your username. We send a sign-in link and a link to choose a new password to the email address your school has for you.",
    send_links: "Send me the links",
    no_email: "No email address? Ask your teacher: they can give you a new password.",
    sent_title: "Check your email",
    sent_username: "If an account at this school uses that email address, we have sent its username to it. If none does, we have sent a message saying so.",
    sent_links: "If that username belongs to an account with an email address, we have sent it a sign-in link and a link to choose a new password. Only the newest message's links work.",
    check_spam: "It can take a few minutes. If nothing comes, check your spam folder, then ask your teacher.",
    back_to_sign_in: "Back to sign-in",

    reset_title: "Choose a new password",
    reset_intro: |username| format!("Choose a new password for {username}."),
    reset_done_staff: "Your password is changed. Sign in with the ClassKeys app.",
    link_title: "Sign in with a link",
    link_intro: |name| format!("Sign in as {name}?"),
    link_button: "Sign me in",
    link_superseded: "This link no longer works: a newer one was sent. Use the link in the newest message.",
    link_used: "This link no longer works: it was used already, or the password was changed since it was sent.",
    link_expired: "This link no longer works: its time ran out.",
    link_unknown: "This link does not work. Check that you opened the whole link from the message.",
    ask_again: "Ask for a new link",

    parents_title: "How to sign in",
    parents_intro: |school| {
        format!("Learners of {school} sign in at this address, on a computer, tablet or phone:")
    },
    parents_qr: "A QR code that opens the sign-in page",
    parents_steps_heading: "Signing in",
    parents_steps: [
        "1. Open the address above, or scan the QR code with the camera of a phone or tablet.",
        "2. Type the username and password from the login card the teacher gave.",
        "3. Press “Sign in”. The first time, the page may ask for a new password: choose one and keep it safe.",
    ],
    parents_forgot_username_heading: "Forgot the username?",
    parents_forgot_username: "On the sign-in page, choose “Forgot your username or password?” and type the email address the school has for the learner: the username is sent to it. No email address at the school? Ask the teacher.",
    parents_forgot_password_heading: "Forgot the password?",
    parents_forgot_password: "On the same page, type the username: a sign-in link and a link to choose a new password are sent to the email address the school has. Only the newest message's links work, and they work once. No email address? Ask the teacher for a new password.",
    parents_safety: "Keep the password private. The school will never ask for it by email or phone.",
    parents_pdf_a4: "Download as PDF (A4)",
    parents_pdf_letter: "Download as PDF (US Letter)",

    expired_form: "This form was open too long or came from somewhere else. Reload the page and try again.",
    form_too_large: "That is more than this form takes. Go back, shorten what you typed and try again.",
    too_many: "Too many tries from here. Wait a few minutes and try again.",
    busy: "The server is very busy. Wait a few seconds and try again.",
    failed: "Something went wrong on our side. Try again in a moment.",
    not_found: "There is no such page.",
};
