//! Sync as a desktop replica lives it: pulls to the end, pushes replayed after a lost answer,
//! conflicts, records leaving and re-entering a teacher's view, paging and tombstones.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use classkeys_client::Client;
use classkeys_domain::ids::{ClassId, LearnerId, OperationId, StaffId};
use classkeys_protocol::ErrorCode;
use classkeys_protocol::roster::{
    ClassRecord, LearnerPatch, LearnerQuery, LearnerRecord, NewClass,
};
use classkeys_protocol::sync::{
    Change, EntityKind, OpKind, OpResult, Operation, Outcome, PullQuery, PushRequest, Record,
    RemovalReason,
};
use classkeys_server::Backend;
use uuid::Uuid;

use crate::harness::{World, class, learner};
use crate::on_both_backends;

on_both_backends!(
    replaying_a_push_batch_changes_nothing_the_second_time,
    a_stale_base_version_is_a_conflict_carrying_the_current_record,
    two_replicas_converge_after_pushing_edits_to_different_learners,
    a_teacher_unassigned_from_a_class_loses_it_and_its_own_learners_on_the_next_pull,
    a_learner_kept_after_unassignment_no_longer_lists_the_lost_class_in_the_replica,
    moving_a_learner_to_another_teachers_class_moves_them_between_replicas,
    a_full_pull_in_small_pages_sees_every_visible_record_exactly_once,
    deleting_an_empty_class_leaves_a_tombstone_for_those_who_saw_it,
    pushing_the_same_operation_from_two_tasks_at_once_applies_it_once,
    two_teachers_editing_the_same_learner_at_once_get_one_change_and_one_conflict,
    an_operation_id_reused_by_another_member_of_staff_is_rejected,
);

/// A desktop replica in miniature: every record it holds, by id, and where its pulls stand.
struct Replica {
    client: Client,
    records: HashMap<Uuid, Record>,
    cursor: Option<String>,
    limit: Option<u32>,
}

impl Replica {
    /// A replica after its first, full pull.
    async fn new(client: &Client) -> Replica {
        Self::with_page_size(client, None).await
    }

    /// A replica that pulls `limit` changes per page, after its first, full pull.
    async fn with_page_size(client: &Client, limit: Option<u32>) -> Replica {
        let mut replica = Replica {
            client: client.clone(),
            records: HashMap::new(),
            cursor: None,
            limit,
        };
        replica.pull().await;
        replica
    }

    /// Pulls until the server says nothing more is waiting; applies and returns every change.
    async fn pull(&mut self) -> Vec<Change> {
        self.pull_pages().await.into_iter().flatten().collect()
    }

    /// As [`Replica::pull`], page by page.
    async fn pull_pages(&mut self) -> Vec<Vec<Change>> {
        let mut pages = Vec::new();
        loop {
            assert!(pages.len() < 10_000, "the pull never ends");
            let page = self
                .client
                .sync_pull(&PullQuery {
                    cursor: self.cursor.clone(),
                    limit: self.limit,
                })
                .await
                .expect("pulling changes");
            if let Some(limit) = self.limit {
                assert!(
                    page.changes.len() <= limit as usize,
                    "a page over its limit"
                );
            }
            for change in &page.changes {
                match change {
                    Change::Upsert { record } => {
                        self.records.insert(record_id(record), record.clone());
                    }
                    Change::Remove { id, .. } => {
                        self.records.remove(id);
                    }
                }
            }
            self.cursor = Some(page.cursor);
            pages.push(page.changes);
            if !page.more {
                return pages;
            }
        }
    }

    fn learner(&self, id: LearnerId) -> Option<&LearnerRecord> {
        match self.records.get(&id.0) {
            Some(Record::Learner(l)) => Some(l),
            _ => None,
        }
    }

    fn class(&self, id: ClassId) -> Option<&ClassRecord> {
        match self.records.get(&id.0) {
            Some(Record::Class(c)) => Some(c),
            _ => None,
        }
    }

    fn learner_ids(&self) -> BTreeSet<Uuid> {
        self.ids_of(EntityKind::Learner)
    }

    fn class_ids(&self) -> BTreeSet<Uuid> {
        self.ids_of(EntityKind::Class)
    }

    fn ids_of(&self, kind: EntityKind) -> BTreeSet<Uuid> {
        self.records
            .values()
            .filter(|r| kind_of(r) == kind)
            .map(record_id)
            .collect()
    }

    /// Asserts that the replica holds exactly what the server shows its user, field by field.
    async fn assert_matches_server(&self, who: &str) {
        let mut server: HashMap<Uuid, Record> = HashMap::new();
        for c in self.client.classes().await.unwrap() {
            server.insert(c.id.0, Record::Class(c));
        }
        for l in all_learners(&self.client, None).await {
            server.insert(l.id.0, Record::Learner(l));
        }
        if let Ok(staff) = self.client.staff().await {
            for s in staff {
                server.insert(s.id.0, Record::Staff(s));
            }
        }
        let replica_ids: BTreeSet<_> = self.records.keys().collect();
        let server_ids: BTreeSet<_> = server.keys().collect();
        assert_eq!(
            replica_ids, server_ids,
            "{who}'s replica holds other records than the server shows"
        );
        for (id, record) in &server {
            assert_eq!(
                self.records.get(id),
                Some(record),
                "{who}'s replica differs from the server"
            );
        }
    }
}

fn record_id(record: &Record) -> Uuid {
    match record {
        Record::Class(c) => c.id.0,
        Record::Learner(l) => l.id.0,
        Record::Staff(s) => s.id.0,
    }
}

fn kind_of(record: &Record) -> EntityKind {
    match record {
        Record::Class(_) => EntityKind::Class,
        Record::Learner(_) => EntityKind::Learner,
        Record::Staff(_) => EntityKind::Staff,
    }
}

/// The removals among `changes`, as (kind, id, reason).
fn removals(changes: &[Change]) -> Vec<(EntityKind, Uuid, RemovalReason)> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Remove { kind, id, reason } => Some((*kind, *id, *reason)),
            Change::Upsert { .. } => None,
        })
        .collect()
}

/// The ids of the records upserted among `changes`.
fn upserted(changes: &[Change]) -> Vec<Uuid> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert { record } => Some(record_id(record)),
            Change::Remove { .. } => None,
        })
        .collect()
}

/// Every learner `client` may see, optionally of one class.
async fn all_learners(client: &Client, class_id: Option<ClassId>) -> Vec<LearnerRecord> {
    let page = client
        .learners(&LearnerQuery {
            class_id,
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.total <= 500, "more learners than one page holds");
    page.items
}

async fn staff_id(lead: &Client, username: &str) -> StaffId {
    lead.staff()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.username == username)
        .unwrap_or_else(|| panic!("no member of staff {username}"))
        .id
}

fn operation(op: OpKind, base_version: Option<i64>) -> Operation {
    Operation {
        id: OperationId::generate(),
        base_version,
        op,
    }
}

fn rename(learner: &LearnerRecord, given_name: &str) -> Operation {
    operation(
        OpKind::LearnerUpdate {
            learner_id: learner.id,
            given_name: Some(given_name.into()),
            family_name: None,
            username: None,
            email: None,
        },
        Some(learner.version),
    )
}

async fn push(client: &Client, operations: &[Operation]) -> Vec<OpResult> {
    let response = client
        .sync_push(&PushRequest {
            operations: operations.to_vec(),
        })
        .await
        .expect("pushing operations");
    assert_eq!(response.results.len(), operations.len());
    for (result, op) in response.results.iter().zip(operations) {
        assert_eq!(result.id, op.id, "results come back in the order sent");
    }
    response.results
}

fn applied_learner(result: &OpResult) -> &LearnerRecord {
    match &result.outcome {
        Outcome::Applied {
            record: Some(Record::Learner(l)),
        } => l,
        other => panic!("expected an applied learner change, got {other:?}"),
    }
}

async fn replaying_a_push_batch_changes_nothing_the_second_time(backend: Backend) {
    let world = World::start(backend).await;
    let owls = class(&world.teacher1, "1 Owls").await;
    let siobhan = learner(&world.teacher1, "siobhan.obrien").await;
    let zoe = learner(&world.teacher1, "zoe.adams").await;
    let mut replica = Replica::new(&world.teacher1).await;

    let new_id = LearnerId::generate();
    let batch = vec![
        rename(&siobhan, "Siobhán Maria"),
        operation(
            OpKind::LearnerUpdate {
                learner_id: zoe.id,
                given_name: None,
                family_name: None,
                username: None,
                email: Some(Some("zoe.adams@pupils.example".into())),
            },
            Some(zoe.version),
        ),
        operation(
            OpKind::LearnerCreate {
                learner_id: new_id,
                given_name: "Nell".into(),
                family_name: "Owusu".into(),
                username: None,
                email: None,
                classes: vec![owls.id],
            },
            None,
        ),
    ];
    let first = push(&world.teacher1, &batch).await;
    assert_eq!(applied_learner(&first[0]).version, siobhan.version + 1);
    assert_eq!(applied_learner(&first[0]).given_name, "Siobhán Maria");
    assert_eq!(
        applied_learner(&first[1]).email.as_deref(),
        Some("zoe.adams@pupils.example")
    );
    assert_eq!(applied_learner(&first[2]).username, "nell.owusu");
    let changes = replica.pull().await;
    for id in [siobhan.id.0, zoe.id.0, new_id.0] {
        assert!(upserted(&changes).contains(&id), "the first push is pulled");
    }

    // The answer was lost; the client sends the very same batch again.
    let second = push(&world.teacher1, &batch).await;
    assert_eq!(
        second, first,
        "a replay answers exactly what the first push did"
    );
    let changes = replica.pull().await;
    assert_eq!(changes, [], "a replay leaves nothing new to pull");

    let now = world.teacher1.learner(siobhan.id).await.unwrap();
    assert_eq!(now.version, siobhan.version + 1, "the version moved once");
    assert_eq!(now.given_name, "Siobhán Maria");
    assert_eq!(
        world.teacher1.learner(zoe.id).await.unwrap().version,
        zoe.version + 1
    );
    let owls_now = world.teacher1.class(owls.id).await.unwrap();
    assert_eq!(
        owls_now.learner_count,
        owls.learner_count + 1,
        "one Nell, not two"
    );
    let nells = world
        .lead
        .learners(&LearnerQuery {
            q: Some("nell owusu".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(nells.total, 1);
    replica.assert_matches_server("teacher1").await;
    world.stop().await;
}

async fn a_stale_base_version_is_a_conflict_carrying_the_current_record(backend: Backend) {
    let world = World::start(backend).await;
    let seen = learner(&world.teacher1, "lukasz.kowalski").await;
    let mut replica = Replica::new(&world.teacher1).await;
    // Someone else edits the learner after teacher1's replica loaded them.
    let edited = world
        .lead
        .learner_update(
            seen.id,
            &LearnerPatch {
                family_name: Some("Kowalski-Nowak".into()),
                base_version: Some(seen.version),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let offline_edit = rename(&seen, "Luke");
    let results = push(&world.teacher1, std::slice::from_ref(&offline_edit)).await;
    let current_for_teacher1 = world.teacher1.learner(seen.id).await.unwrap();
    match &results[0].outcome {
        Outcome::Conflict { current } => {
            assert_eq!(current, &Record::Learner(current_for_teacher1.clone()));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Nothing of the offline edit landed.
    assert_eq!(current_for_teacher1.given_name, "Łukasz");
    assert_eq!(current_for_teacher1.family_name, "Kowalski-Nowak");
    assert_eq!(current_for_teacher1.version, edited.version);
    let changes = replica.pull().await;
    assert_eq!(
        upserted(&changes),
        [seen.id.0],
        "only the lead's edit is pulled"
    );
    assert_eq!(
        replica.learner(seen.id),
        Some(&current_for_teacher1),
        "the replica holds the lead's version"
    );
    // Replaying the conflicting operation is still a conflict and still changes nothing.
    let again = push(&world.teacher1, &[offline_edit]).await;
    assert_eq!(again, results);
    assert_eq!(replica.pull().await, []);
    world.stop().await;
}

async fn two_replicas_converge_after_pushing_edits_to_different_learners(backend: Backend) {
    let world = World::start(backend).await;
    let mut lead = Replica::new(&world.lead).await;
    let mut teacher2 = Replica::new(&world.teacher2).await;
    let badgers = class(&world.teacher2, "3 Badgers").await;
    let badgers_learners = all_learners(&world.teacher2, Some(badgers.id)).await;
    let an = learner(&world.teacher2, "vanan.nguyen").await;
    let lukasz = learner(&world.teacher2, "lukasz.kowalski").await;
    let other_badger = badgers_learners
        .iter()
        .find(|l| l.id != lukasz.id)
        .unwrap()
        .clone();
    let mohammed_4b = all_learners(&world.teacher2, Some(class(&world.lead, "4B").await.id))
        .await
        .into_iter()
        .find(|l| l.given_name == "Mohammed")
        .unwrap();

    // Each makes edits offline, then both push and pull.
    let by_teacher2 = [
        rename(&an, "An"),
        rename(&lukasz, "Łukasz Jan"),
        operation(
            OpKind::LearnerCreate {
                learner_id: LearnerId::generate(),
                given_name: "Bea".into(),
                family_name: "Quinn".into(),
                username: None,
                email: Some("bea.quinn@pupils.example".into()),
                classes: vec![badgers.id],
            },
            None,
        ),
    ];
    let by_lead = [
        rename(&other_badger, "Changed By Lead"),
        operation(
            OpKind::LearnerSetActive {
                learner_id: mohammed_4b.id,
                active: false,
            },
            Some(mohammed_4b.version),
        ),
    ];
    for result in push(&world.teacher2, &by_teacher2).await {
        assert!(
            matches!(result.outcome, Outcome::Applied { .. }),
            "{result:?}"
        );
    }
    for result in push(&world.lead, &by_lead).await {
        assert!(
            matches!(result.outcome, Outcome::Applied { .. }),
            "{result:?}"
        );
    }
    lead.pull().await;
    teacher2.pull().await;

    lead.assert_matches_server("lead").await;
    teacher2.assert_matches_server("teacher2").await;
    // Everything teacher2 holds, the lead holds identically (each learner is in one class,
    // so both see the same class list on it).
    assert!(!teacher2.records.is_empty());
    for (id, record) in &teacher2.records {
        assert_eq!(lead.records.get(id), Some(record), "the replicas disagree");
    }
    assert_eq!(teacher2.learner(an.id).unwrap().given_name, "An");
    assert_eq!(
        teacher2.learner(other_badger.id).unwrap().given_name,
        "Changed By Lead"
    );
    assert!(!teacher2.learner(mohammed_4b.id).unwrap().active);
    assert_eq!(
        teacher2.class(badgers.id).unwrap().learner_count,
        badgers.learner_count + 1
    );
    world.stop().await;
}

/// Puts one learner of 1 Owls into Reception Robins as well, so teacher1 still reaches them
/// after losing 1 Owls. Returns (1 Owls, Reception Robins, the shared learner).
async fn share_an_owl_with_robins(world: &World) -> (ClassRecord, ClassRecord, LearnerRecord) {
    let owls = class(&world.lead, "1 Owls").await;
    let robins = class(&world.lead, "Reception Robins").await;
    let siobhan = learner(&world.lead, "siobhan.obrien").await;
    let shared = world
        .lead
        .learner_enrol(siobhan.id, robins.id)
        .await
        .unwrap();
    assert_eq!(shared.classes.len(), 2);
    (owls, robins, shared)
}

async fn a_teacher_unassigned_from_a_class_loses_it_and_its_own_learners_on_the_next_pull(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let (owls, robins, shared) = share_an_owl_with_robins(&world).await;
    let owls_learners = all_learners(&world.lead, Some(owls.id)).await;
    assert_eq!(owls_learners.len(), 27);
    let teacher1_id = staff_id(&world.lead, "teacher1").await;
    let mut replica = Replica::new(&world.teacher1).await;
    let mut teacher2 = Replica::new(&world.teacher2).await;
    let before = replica.learner_ids();
    assert!(replica.class(owls.id).is_some());

    world
        .lead
        .class_unassign_teacher(owls.id, teacher1_id)
        .await
        .unwrap();
    let changes = replica.pull().await;
    let mut expected: Vec<_> = owls_learners
        .iter()
        .filter(|l| l.id != shared.id)
        .map(|l| (EntityKind::Learner, l.id.0, RemovalReason::NoLongerVisible))
        .collect();
    expected.push((EntityKind::Class, owls.id.0, RemovalReason::NoLongerVisible));
    let mut got = removals(&changes);
    got.sort_by_key(|r| r.1);
    expected.sort_by_key(|r| r.1);
    assert_eq!(
        got, expected,
        "the class and its own learners leave, no more"
    );
    assert!(replica.class(owls.id).is_none());
    assert!(replica.class(robins.id).is_some());
    assert!(
        replica.learner(shared.id).is_some(),
        "a learner also in another of teacher1's classes stays"
    );
    assert_eq!(replica.learner_ids().len(), before.len() - 26);
    // The replica agrees with what the server now shows teacher1, as sets of records.
    let server_learners: BTreeSet<Uuid> = all_learners(&world.teacher1, None)
        .await
        .iter()
        .map(|l| l.id.0)
        .collect();
    assert_eq!(replica.learner_ids(), server_learners);
    let server_classes: BTreeSet<Uuid> = world
        .teacher1
        .classes()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id.0)
        .collect();
    assert_eq!(replica.class_ids(), server_classes);
    // Another teacher, who never saw 1 Owls, is told nothing.
    assert_eq!(teacher2.pull().await, []);

    // Assigned back, teacher1 gets the class and all its learners again.
    world
        .lead
        .class_assign_teacher(owls.id, teacher1_id)
        .await
        .unwrap();
    let changes = replica.pull().await;
    assert_eq!(removals(&changes), []);
    let back: BTreeSet<Uuid> = upserted(&changes).into_iter().collect();
    assert!(back.contains(&owls.id.0));
    for l in &owls_learners {
        assert!(
            back.contains(&l.id.0),
            "{} {} is back",
            l.given_name,
            l.family_name
        );
    }
    assert_eq!(replica.learner_ids(), before);
    replica.assert_matches_server("teacher1").await;
    world.stop().await;
}

/// Regression: the learner record carries the classes its reader can see, so when teacher1
/// loses 1 Owls, a learner teacher1 keeps through Reception Robins must be pulled again
/// without 1 Owls. Otherwise the replica shows the learner in a class it no longer holds.
async fn a_learner_kept_after_unassignment_no_longer_lists_the_lost_class_in_the_replica(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let (owls, robins, shared) = share_an_owl_with_robins(&world).await;
    let teacher1_id = staff_id(&world.lead, "teacher1").await;
    let mut replica = Replica::new(&world.teacher1).await;
    world
        .lead
        .class_unassign_teacher(owls.id, teacher1_id)
        .await
        .unwrap();
    replica.pull().await;
    let on_server = world.teacher1.learner(shared.id).await.unwrap();
    assert_eq!(on_server.classes, [robins.id]);
    assert_eq!(
        replica.learner(shared.id).map(|l| &l.classes),
        Some(&on_server.classes),
        "teacher1's replica still lists 1 Owls ({}) on {} {}",
        owls.id,
        shared.given_name,
        shared.family_name
    );
    world.stop().await;
}

async fn moving_a_learner_to_another_teachers_class_moves_them_between_replicas(backend: Backend) {
    let world = World::start(backend).await;
    let owls = class(&world.teacher1, "1 Owls").await;
    let kestrels = class(&world.teacher3, "5 Kestrels").await;
    let siobhan = learner(&world.teacher1, "siobhan.obrien").await;
    let mut teacher1 = Replica::new(&world.teacher1).await;
    let mut teacher3 = Replica::new(&world.teacher3).await;
    assert!(teacher3.learner(siobhan.id).is_none());

    let moved = push(
        &world.lead,
        &[operation(
            OpKind::LearnerMove {
                learner_id: siobhan.id,
                from: owls.id,
                to: kestrels.id,
            },
            Some(siobhan.version),
        )],
    )
    .await;
    assert_eq!(applied_learner(&moved[0]).classes, [kestrels.id]);

    let changes = teacher1.pull().await;
    assert_eq!(
        removals(&changes),
        [(
            EntityKind::Learner,
            siobhan.id.0,
            RemovalReason::NoLongerVisible
        )]
    );
    assert!(teacher1.learner(siobhan.id).is_none());
    assert_eq!(
        teacher1.class(owls.id).unwrap().learner_count,
        owls.learner_count - 1
    );

    let changes = teacher3.pull().await;
    assert_eq!(removals(&changes), []);
    let arrived = teacher3
        .learner(siobhan.id)
        .expect("teacher3 gets the learner");
    assert_eq!(arrived.classes, [kestrels.id]);
    assert_eq!(arrived.given_name, "Siobhán");
    assert_eq!(
        teacher3.class(kestrels.id).unwrap().learner_count,
        kestrels.learner_count + 1
    );
    teacher1.assert_matches_server("teacher1").await;
    teacher3.assert_matches_server("teacher3").await;
    world.stop().await;
}

async fn a_full_pull_in_small_pages_sees_every_visible_record_exactly_once(backend: Backend) {
    let world = World::start(backend).await;
    for (who, client) in [("lead", &world.lead), ("teacher1", &world.teacher1)] {
        let mut replica = Replica {
            client: client.clone(),
            records: HashMap::new(),
            cursor: None,
            limit: Some(7),
        };
        let pages = replica.pull_pages().await;
        assert!(pages.len() > 10, "{who}: the pull was paged");
        let mut seen: HashMap<Uuid, usize> = HashMap::new();
        for change in pages.iter().flatten() {
            match change {
                Change::Upsert { record } => *seen.entry(record_id(record)).or_default() += 1,
                Change::Remove { .. } => panic!("{who}: nothing was removed yet: {change:?}"),
            }
        }
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
        assert_eq!(twice, [], "{who}: records sent more than once");
        replica.assert_matches_server(who).await;
    }

    // A teacher's first pull holds exactly the learners of their classes, and no staff.
    let teacher1 = Replica::with_page_size(&world.teacher1, Some(7)).await;
    let mut expected = BTreeSet::new();
    for name in ["Reception Robins", "1 Owls", "3 Badgers"] {
        let c = class(&world.lead, name).await;
        expected.extend(
            all_learners(&world.lead, Some(c.id))
                .await
                .iter()
                .map(|l| l.id.0),
        );
    }
    assert_eq!(expected.len(), 81);
    assert_eq!(teacher1.learner_ids(), expected);
    assert_eq!(teacher1.class_ids().len(), 3);
    assert!(teacher1.ids_of(EntityKind::Staff).is_empty());
    let lead = Replica::with_page_size(&world.lead, Some(7)).await;
    assert_eq!(lead.learner_ids().len(), 189);
    assert_eq!(lead.class_ids().len(), 7);
    assert_eq!(lead.ids_of(EntityKind::Staff).len(), 4);
    world.stop().await;
}

async fn deleting_an_empty_class_leaves_a_tombstone_for_those_who_saw_it(backend: Backend) {
    let world = World::start(backend).await;
    let club = world
        .lead
        .class_create(&NewClass {
            id: None,
            name: "Chess Club".into(),
            year_group: None,
        })
        .await
        .unwrap();
    let teacher1_id = staff_id(&world.lead, "teacher1").await;
    world
        .lead
        .class_assign_teacher(club.id, teacher1_id)
        .await
        .unwrap();
    let mut replicas = vec![
        ("lead", Replica::new(&world.lead).await),
        ("teacher1", Replica::new(&world.teacher1).await),
        ("teacher2", Replica::new(&world.teacher2).await),
        ("teacher3", Replica::new(&world.teacher3).await),
    ];
    assert!(replicas[0].1.class(club.id).is_some());
    assert!(replicas[1].1.class(club.id).is_some());

    world.lead.class_delete(club.id).await.unwrap();
    for (who, replica) in &mut replicas {
        let changes = replica.pull().await;
        // Those who could see the class get a tombstone; the others never learn it existed.
        let expected = if matches!(*who, "lead" | "teacher1") {
            vec![(EntityKind::Class, club.id.0, RemovalReason::Deleted)]
        } else {
            vec![]
        };
        assert_eq!(removals(&changes), expected, "{who}");
        assert!(replica.class(club.id).is_none(), "{who}");
        replica.assert_matches_server(who).await;
    }
    let gone = world.lead.class(club.id).await.unwrap_err();
    assert_eq!(gone.code(), Some(ErrorCode::NotFound));
    world.stop().await;
}

async fn pushing_the_same_operation_from_two_tasks_at_once_applies_it_once(backend: Backend) {
    let world = World::start(backend).await;
    let zoe = learner(&world.teacher1, "zoe.adams").await;
    let mut version = zoe.version;
    // A client that lost its connection mid-push retries while the first request still runs.
    // Whether the two requests really overlap is up to the scheduler, so try several times.
    let mut failed_replays = Vec::new();
    for round in 0..10 {
        // Half the rounds carry no base version: then only the operation id stands between
        // the change and a second application.
        let base = (round % 2 == 0).then_some(version);
        let request = Arc::new(PushRequest {
            operations: vec![operation(
                OpKind::LearnerUpdate {
                    learner_id: zoe.id,
                    given_name: Some(format!("Zoë {round}")),
                    family_name: None,
                    username: None,
                    email: None,
                },
                base,
            )],
        });
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let client = world.teacher1.clone();
                let request = Arc::clone(&request);
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    client.sync_push(&request).await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }

        let now = world.teacher1.learner(zoe.id).await.unwrap();
        assert_eq!(now.given_name, format!("Zoë {round}"));
        assert_eq!(
            now.version,
            version + 1,
            "round {round}: applied exactly once"
        );
        version = now.version;

        match (&answers[0], &answers[1]) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "round {round}: both requests get the one outcome");
                assert_eq!(applied_learner(&a.results[0]).version, version);
            }
            (a, b) => {
                for e in [a, b].into_iter().filter_map(|r| r.as_ref().err()) {
                    failed_replays.push(format!("round {round} (base version {base:?}): {e:?}"));
                }
            }
        }
    }
    assert_eq!(
        failed_replays,
        Vec::<String>::new(),
        "a replay racing the first request must get the stored outcome, not an error"
    );
    world.stop().await;
}

async fn two_teachers_editing_the_same_learner_at_once_get_one_change_and_one_conflict(
    backend: Backend,
) {
    let world = World::start(backend).await;
    // Both teach 3 Badgers; both edit Łukasz from the same version at the same moment.
    let lukasz = learner(&world.teacher1, "lukasz.kowalski").await;
    let mut teacher1 = Replica::new(&world.teacher1).await;
    let mut teacher2 = Replica::new(&world.teacher2).await;
    let mut seen = lukasz;
    for round in 0..5 {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = [(&world.teacher1, "One"), (&world.teacher2, "Two")]
            .into_iter()
            .map(|(client, name)| {
                let client = client.clone();
                let request = PushRequest {
                    operations: vec![rename(&seen, &format!("{name} {round}"))],
                };
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    client.sync_push(&request).await.unwrap().results.remove(0)
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap().outcome);
        }
        let now = world.lead.learner(seen.id).await.unwrap();
        assert_eq!(
            now.version,
            seen.version + 1,
            "round {round}: exactly one edit landed"
        );
        let applied: Vec<_> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Applied {
                    record: Some(Record::Learner(l)),
                } => Some(l),
                _ => None,
            })
            .collect();
        let conflicts: Vec<_> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Conflict { current } => Some(current),
                _ => None,
            })
            .collect();
        assert_eq!(
            (applied.len(), conflicts.len()),
            (1, 1),
            "round {round}: {outcomes:?}"
        );
        assert_eq!(
            applied[0], &now,
            "round {round}: the winner's edit is what the server has"
        );
        assert_eq!(
            conflicts[0],
            &Record::Learner(now.clone()),
            "round {round}: the loser is shown the winner's edit"
        );
        teacher1.pull().await;
        teacher2.pull().await;
        assert_eq!(teacher1.learner(now.id), Some(&now));
        assert_eq!(teacher2.learner(now.id), Some(&now));
        seen = now;
    }
    world.stop().await;
}

async fn an_operation_id_reused_by_another_member_of_staff_is_rejected(backend: Backend) {
    let world = World::start(backend).await;
    let lukasz = learner(&world.teacher1, "lukasz.kowalski").await;
    let first = rename(&lukasz, "Luke");
    let applied = push(&world.teacher1, std::slice::from_ref(&first)).await;
    assert_eq!(applied_learner(&applied[0]).given_name, "Luke");

    let badger = all_learners(
        &world.teacher2,
        Some(class(&world.teacher2, "3 Badgers").await.id),
    )
    .await
    .into_iter()
    .find(|l| l.id != lukasz.id)
    .unwrap();
    let mut mirror = Replica::new(&world.teacher2).await;
    let mut borrowed = rename(&badger, "Borrowed");
    borrowed.id = first.id;
    let results = push(&world.teacher2, &[borrowed]).await;
    match &results[0].outcome {
        Outcome::Rejected { error } => {
            assert_eq!(error.code, ErrorCode::OperationIdReused, "{error:?}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(mirror.pull().await, [], "nothing changed");
    assert_eq!(
        world.teacher2.learner(badger.id).await.unwrap(),
        badger,
        "the other learner is untouched"
    );
    // The owner of the id still gets their own stored outcome.
    assert_eq!(push(&world.teacher1, &[first]).await, applied);
    world.stop().await;
}
