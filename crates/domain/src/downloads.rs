//! The names of the files ClassKeys offers to save: one spelling for the server's downloads
//! and the desktop app's save dialog alike.
//!
//! A name is made from a class's or school's own name, which anyone with a class can
//! choose: only letters and digits of it are kept (any script), everything else becomes a
//! dash, so no name can climb out of a folder, hide an extension or break a header.

/// The safe stem of `text`: its letters and digits, lower-cased, with every other run of
/// characters one dash; `fallback` when nothing is left.
pub fn stem(text: &str, fallback: &str) -> String {
    let mut stem = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() {
            stem.extend(c.to_lowercase());
        } else if !stem.is_empty() && !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let stem = stem.trim_end_matches('-');
    if stem.is_empty() {
        fallback.to_owned()
    } else {
        stem.to_owned()
    }
}

/// A class's access codes as CSV.
pub fn class_access_codes(class_name: &str) -> String {
    format!("access-codes-{}.csv", stem(class_name, "class"))
}

/// A class's printable login cards.
pub fn login_cards(class_name: &str) -> String {
    format!("login-cards-{}.pdf", stem(class_name, "class"))
}

/// Parents' "how to sign in" sheets for a class or a learner (named by class name or
/// username).
pub fn sign_in_instructions(for_whom: &str) -> String {
    format!("how-to-sign-in-{}.pdf", stem(for_whom, "learners"))
}

/// The whole school's access codes as CSV.
pub fn school_access_codes(school_name: &str) -> String {
    format!("{}-access-codes.csv", stem(school_name, "school"))
}

/// The whole school's student database as CSV.
pub fn school_students(school_name: &str) -> String {
    format!("{}-students.csv", stem(school_name, "school"))
}

/// The whole school as a OneRoster 1.2 zip.
pub fn school_roster(school_name: &str) -> String {
    format!("{}-oneroster.zip", stem(school_name, "school"))
}

/// The name as plain ASCII, for clients that read only the ASCII `filename` of a download:
/// every other letter becomes a dash (the full name travels as `filename*`).
pub fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii() { c } else { '-' })
        .collect()
}

/// The `Content-Disposition` value that offers `name` as a download: an ASCII `filename`
/// for old clients and the exact name, percent-encoded UTF-8, as `filename*` (RFC 6266).
pub fn content_disposition(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{encoded}",
        ascii_fallback(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_only_letters_and_digits_of_any_script() {
        assert_eq!(
            class_access_codes("3 Badgers"),
            "access-codes-3-badgers.csv"
        );
        assert_eq!(
            class_access_codes("../../etc/passwd"),
            "access-codes-etc-passwd.csv"
        );
        assert_eq!(class_access_codes("\"; rm -rf"), "access-codes-rm-rf.csv");
        assert_eq!(login_cards("Ωμέγα 2"), "login-cards-ωμέγα-2.pdf");
        assert_eq!(
            school_students("École Saint-Éloi"),
            "école-saint-éloi-students.csv"
        );
        assert_eq!(school_access_codes("***"), "school-access-codes.csv");
        assert_eq!(class_access_codes(""), "access-codes-class.csv");
    }

    #[test]
    fn a_download_header_carries_the_exact_name_and_an_ascii_fallback() {
        assert_eq!(
            content_disposition("access-codes-3-badgers.csv"),
            "attachment; filename=\"access-codes-3-badgers.csv\"; \
             filename*=UTF-8''access-codes-3-badgers.csv"
        );
        assert_eq!(
            content_disposition("login-cards-ωμ.pdf"),
            "attachment; filename=\"login-cards---.pdf\"; \
             filename*=UTF-8''login-cards-%CF%89%CE%BC.pdf"
        );
    }
}
