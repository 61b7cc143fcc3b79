//! What a class's access-code list needs offline (DESIGN §6): each learner's parent access
//! code, sealed by the caller under the device key before it gets here, and the school's
//! sign-in address. The store never sees a key or an opened code; passwords are never kept.

use std::collections::HashMap;

use classkeys_domain::ids::{ClassId, LearnerId};

use crate::replica::parse_id;
use crate::{Result, Store, meta_get, meta_set};

const META_SIGN_IN_URL: &str = "sign_in_url";

impl Store {
    /// Keeps sealed parent access codes, replacing what was kept for those learners, and
    /// the school's sign-in address, in one transaction. Codes of learners the replica does
    /// not hold are skipped: they would have no row to be shown in, and would outlive the
    /// learner leaving the replica.
    pub async fn keep_parent_codes(
        &self,
        sign_in_url: &str,
        codes: &[(LearnerId, String)],
    ) -> Result<()> {
        let mut tx = self.write().await?;
        for (learner, sealed) in codes {
            sqlx::query(
                "INSERT INTO parent_code (learner_id, sealed)
                 SELECT id, ?2 FROM learner WHERE id = ?1
                 ON CONFLICT (learner_id) DO UPDATE SET sealed = excluded.sealed",
            )
            .bind(learner.to_string())
            .bind(sealed)
            .execute(&mut *tx)
            .await?;
        }
        meta_set(&mut *tx, META_SIGN_IN_URL, sign_in_url).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The sealed parent access codes kept for the learners of a class.
    pub async fn parent_codes(&self, class: ClassId) -> Result<HashMap<LearnerId, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.learner_id, p.sealed FROM enrolment e
             JOIN parent_code p ON p.learner_id = e.learner_id WHERE e.class_id = ?",
        )
        .bind(class.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, sealed)| Ok((parse_id(&id)?, sealed)))
            .collect()
    }

    /// The sealed parent access code kept for one learner.
    pub async fn parent_code(&self, learner: LearnerId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT sealed FROM parent_code WHERE learner_id = ?")
                .bind(learner.to_string())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Where the school's learners sign in, as the server last said.
    pub async fn sign_in_url(&self) -> Result<Option<String>> {
        meta_get(&self.pool, META_SIGN_IN_URL).await
    }
}

#[cfg(test)]
mod tests {
    use classkeys_protocol::roster::LearnerRecord;
    use classkeys_protocol::sync::{Change, EntityKind, PullResponse, Record, RemovalReason};
    use time::OffsetDateTime;

    use super::*;
    use crate::test_support::store;

    fn learner(family: &str, class: ClassId) -> LearnerRecord {
        LearnerRecord {
            id: LearnerId::generate(),
            username: family.to_lowercase(),
            given_name: "Ada".into(),
            family_name: family.into(),
            email: None,
            active: true,
            classes: vec![class],
            password: Default::default(),
            must_change_password: false,
            version: 1,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn page(changes: Vec<Change>) -> PullResponse {
        PullResponse {
            changes,
            cursor: "1".into(),
            more: false,
        }
    }

    #[tokio::test]
    async fn kept_codes_follow_the_learners_of_the_replica() {
        let (store, _dir) = store().await;
        let owls = ClassId::generate();
        let (a, b) = (learner("Abbott", owls), learner("Byrne", owls));
        let upserts = [&a, &b].map(|l| Change::Upsert {
            record: Record::Learner(l.clone()),
        });
        store.apply_pull(&page(upserts.to_vec())).await.unwrap();
        let stranger = LearnerId::generate();
        let url = "https://keys.example/s/hill/sign-in";
        store
            .keep_parent_codes(
                url,
                &[
                    (a.id, "s1.sealed-a".into()),
                    (b.id, "s1.sealed-b".into()),
                    (stranger, "s1.sealed-c".into()),
                ],
            )
            .await
            .unwrap();
        let kept = store.parent_codes(owls).await.unwrap();
        assert_eq!(kept.len(), 2, "a learner not in the replica keeps nothing");
        assert_eq!(kept[&a.id], "s1.sealed-a");
        assert_eq!(store.sign_in_url().await.unwrap().as_deref(), Some(url));

        // A newer code replaces the old one; a learner leaving the replica takes theirs.
        store
            .keep_parent_codes(url, &[(a.id, "s1.rotated-a".into())])
            .await
            .unwrap();
        store
            .apply_pull(&page(vec![Change::Remove {
                kind: EntityKind::Learner,
                id: b.id.0,
                reason: RemovalReason::NoLongerVisible,
            }]))
            .await
            .unwrap();
        let kept = store.parent_codes(owls).await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[&a.id], "s1.rotated-a");

        store.clear().await.unwrap();
        assert!(store.parent_codes(owls).await.unwrap().is_empty());
        assert_eq!(store.sign_in_url().await.unwrap(), None);
    }
}
