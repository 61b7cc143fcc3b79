//! Names → ids: what the admin types (a class name, a learner's username, a teacher's
//! username) becomes the record the API wants.
//!
//! Lookups go through the same endpoints the admin's role can use, so a name resolves only
//! to something the admin may see. A teacher who names a class that exists but is not theirs
//! gets the same answer as for a class that does not exist — the server does not tell them
//! either, and the CLI must not guess.

use anyhow::{Result, anyhow};
use classkeys_client::Client;
use classkeys_domain::identity::{Role, Username};
use classkeys_domain::ids::{ClassId, LearnerId};
use classkeys_domain::text::identity_key;
use classkeys_protocol::ErrorCode;
use classkeys_protocol::roster::{ClassRecord, LearnerQuery, LearnerRecord, StaffRecord};

use crate::error::Explained;

/// The most learners the API returns per page.
pub const PAGE_SIZE: u32 = 500;

/// Resolves names for one command, fetching the class list at most once.
pub struct Resolver<'a> {
    client: &'a Client,
    classes: Option<Vec<ClassRecord>>,
}

impl<'a> Resolver<'a> {
    /// A resolver asking `client`.
    pub fn new(client: &'a Client) -> Self {
        Self {
            client,
            classes: None,
        }
    }

    /// The classes the admin can see.
    pub async fn classes(&mut self) -> Result<&[ClassRecord]> {
        if self.classes.is_none() {
            self.classes = Some(self.client.classes().await.explained()?);
        }
        Ok(self.classes.as_deref().unwrap_or_default())
    }

    /// The class named `wanted` (case-insensitive) or with that id.
    pub async fn class(&mut self, wanted: &str) -> Result<ClassRecord> {
        if let Some(class) = find_class(self.classes().await?, wanted) {
            return Ok(class.clone());
        }
        // Only a failed lookup needs the role, so only a failed lookup pays for asking.
        let role = self.client.me().await.explained()?.role;
        Err(anyhow!(class_not_found(role, wanted)))
    }

    /// The names of these classes, for showing a learner's classes; an id the admin cannot
    /// see (a class created since the list was fetched) is shown as the id.
    pub async fn class_names(&mut self, ids: &[ClassId]) -> Result<Vec<String>> {
        let classes = self.classes().await?;
        Ok(ids.iter().map(|id| class_name(classes, *id)).collect())
    }

    /// The learner with this username, or with this id.
    pub async fn learner(&self, wanted: &str) -> Result<LearnerRecord> {
        let wanted = wanted.trim();
        if let Ok(id) = wanted.parse::<LearnerId>() {
            return match self.client.learner(id).await {
                Err(e) if e.code() == Some(ErrorCode::NotFound) => Err(anyhow!(
                    "no learner with id {id} among the learners you can see"
                )),
                other => other.explained(),
            };
        }
        let not_found =
            || anyhow!("no learner with username {wanted} among the learners you can see");
        // A string that cannot be a username cannot match one; searching for it would only
        // page through unrelated learners.
        let Ok(username) = Username::parse(wanted) else {
            return Err(not_found());
        };
        let mut query = LearnerQuery {
            q: Some(username.as_str().to_owned()),
            include_inactive: Some(true),
            limit: Some(PAGE_SIZE),
            ..LearnerQuery::default()
        };
        // The search matches words anywhere (`ann` also finds `joanna.ann`), so the exact
        // username may sit on a later page behind partial matches.
        loop {
            let page = self.client.learners(&query).await.explained()?;
            if let Some(found) = find_learner(&page.items, &username) {
                return Ok(found.clone());
            }
            let next = page.offset.saturating_add(page.items.len() as u32);
            if page.items.is_empty() || i64::from(next) >= page.total {
                return Err(not_found());
            }
            query.offset = Some(next);
        }
    }

    /// The member of staff with this username (lead teachers may list staff).
    pub async fn staff(&self, username: &str) -> Result<StaffRecord> {
        let staff = self.client.staff().await.explained()?;
        find_staff(&staff, username)
            .cloned()
            .ok_or_else(|| anyhow!("no member of staff with username {}", username.trim()))
    }
}

/// The class whose id is `wanted`, or whose name equals it ignoring case (as the server
/// compares class names: trimmed, NFC, lower-cased).
pub fn find_class<'c>(classes: &'c [ClassRecord], wanted: &str) -> Option<&'c ClassRecord> {
    let wanted = wanted.trim();
    if let Ok(id) = wanted.parse::<ClassId>()
        && let Some(class) = classes.iter().find(|c| c.id == id)
    {
        return Some(class);
    }
    let key = identity_key(wanted);
    classes.iter().find(|c| identity_key(&c.name) == key)
}

/// The message for a class the admin named but cannot see. A teacher sees only their own
/// classes, so for them "not found" most often means "not yours"; a lead teacher sees every
/// class, so for them it means there is none.
pub fn class_not_found(role: Role, wanted: &str) -> String {
    let wanted = wanted.trim();
    match role {
        Role::Teacher => format!("permission denied: class {wanted} is not one of your classes"),
        Role::LeadTeacher => format!("no class named {wanted}"),
    }
}

/// The class's name, or its id when it is not in the list.
pub fn class_name(classes: &[ClassRecord], id: ClassId) -> String {
    classes
        .iter()
        .find(|c| c.id == id)
        .map_or_else(|| id.to_string(), |c| c.name.clone())
}

/// The learner whose username is exactly `username` (usernames are stored lower-case).
pub fn find_learner<'l>(
    learners: &'l [LearnerRecord],
    username: &Username,
) -> Option<&'l LearnerRecord> {
    learners
        .iter()
        .find(|l| l.username.eq_ignore_ascii_case(username.as_str()))
}

/// The member of staff whose username is exactly `username`, ignoring case.
pub fn find_staff<'s>(staff: &'s [StaffRecord], username: &str) -> Option<&'s StaffRecord> {
    let username = username.trim();
    staff
        .iter()
        .find(|s| s.username.eq_ignore_ascii_case(username))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn class(id: u128, name: &str) -> ClassRecord {
        serde_json::from_value(json!({
            "id": uuid::Uuid::from_u128(id),
            "name": name,
            "year_group": null,
            "archived": false,
            "teachers": [],
            "learner_count": 0,
            "version": 1,
            "updated_at": "2025-01-01T00:00:00Z",
        }))
        .expect("class record")
    }

    fn learner(id: u128, username: &str) -> LearnerRecord {
        serde_json::from_value(json!({
            "id": uuid::Uuid::from_u128(id),
            "username": username,
            "given_name": "G",
            "family_name": "F",
            "email": null,
            "active": true,
            "classes": [],
            "version": 1,
            "updated_at": "2025-01-01T00:00:00Z",
        }))
        .expect("learner record")
    }

    #[test]
    fn class_names_match_ignoring_case_and_surrounding_spaces() {
        let classes = [class(1, "4B"), class(2, "Year 3 Owls"), class(3, "Ärzte 7")];
        assert_eq!(
            find_class(&classes, "4b").map(|c| c.name.as_str()),
            Some("4B")
        );
        assert_eq!(
            find_class(&classes, "  year 3 OWLS ").map(|c| c.name.as_str()),
            Some("Year 3 Owls")
        );
        assert_eq!(
            find_class(&classes, "ärzte 7").map(|c| c.name.as_str()),
            Some("Ärzte 7")
        );
        assert!(
            find_class(&classes, "Year 3").is_none(),
            "no prefix matches"
        );
        assert!(find_class(&classes, "4C").is_none());
    }

    #[test]
    fn classes_can_be_named_by_id() {
        let classes = [class(1, "4B"), class(2, "5C")];
        let id = uuid::Uuid::from_u128(2).to_string();
        assert_eq!(
            find_class(&classes, &id).map(|c| c.name.as_str()),
            Some("5C")
        );
    }

    #[test]
    fn a_missing_class_is_not_yours_for_a_teacher_and_absent_for_a_lead() {
        assert_eq!(
            class_not_found(Role::Teacher, "4C"),
            "permission denied: class 4C is not one of your classes"
        );
        assert_eq!(
            class_not_found(Role::LeadTeacher, "4C"),
            "no class named 4C"
        );
    }

    #[test]
    fn learners_match_the_whole_username_only() {
        let found = [
            learner(1, "joanna.ann"),
            learner(2, "ann"),
            learner(3, "anna"),
        ];
        let ann = Username::parse("Ann").expect("username");
        assert_eq!(
            find_learner(&found, &ann).map(|l| l.id.0.as_u128()),
            Some(2)
        );
        let an = Username::parse("an").expect("username");
        assert!(find_learner(&found, &an).is_none());
    }

    #[test]
    fn unknown_class_ids_are_shown_as_ids() {
        let classes = [class(1, "4B")];
        assert_eq!(
            class_name(&classes, ClassId(uuid::Uuid::from_u128(1))),
            "4B"
        );
        let other = ClassId(uuid::Uuid::from_u128(9));
        assert_eq!(class_name(&classes, other), other.to_string());
    }
}
