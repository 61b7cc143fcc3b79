//! Bad input gets a specific error and writes nothing; hostile text is kept as text; search
//! finds people however their names are typed.

use classkeys_client::{Client, Error, HttpMethod};
use classkeys_domain::ids::{ClassId, OperationId};
use classkeys_protocol::roster::{
    ClassPatch, ClassRecord, LearnerPatch, LearnerQuery, LearnerRecord, NewClass, NewLearner,
};
use classkeys_protocol::sync::{
    Change, OpKind, Operation, Outcome, PullQuery, PushRequest, Record,
};
use classkeys_protocol::{ErrorBody, ErrorCode, paths};
use classkeys_server::Backend;

use crate::harness::{World, class, learner};
use crate::on_both_backends;

on_both_backends!(
    a_body_that_is_not_json_or_has_the_wrong_shape_is_refused_and_writes_nothing,
    a_body_over_one_mebibyte_is_refused_as_too_large,
    invalid_emails_are_refused_naming_the_problem,
    an_email_with_invisible_or_direction_changing_characters_is_refused,
    a_taken_username_is_refused_naming_its_holder,
    a_taken_email_is_refused_also_when_its_holder_is_deactivated,
    a_class_name_taken_in_any_letter_case_is_refused,
    html_and_formula_text_in_names_are_stored_and_returned_verbatim,
    a_name_with_a_right_to_left_override_is_refused,
    search_ignores_case_and_accents_and_transliterates,
    search_pages_cover_every_result_exactly_once,
    percent_and_underscore_in_a_search_are_not_wildcards,
    a_sync_cursor_or_limit_the_server_never_offers_is_refused,
);

/// The lead teacher's view of the school, to show that a refused request wrote nothing:
/// a sync pull from the last position finds no change, and 1 Owls still has its learners.
struct Watch {
    lead: Client,
    cursor: Option<String>,
    owls: ClassRecord,
}

impl Watch {
    async fn start(world: &World) -> Watch {
        let mut watch = Watch {
            lead: world.lead.clone(),
            cursor: None,
            owls: class(&world.lead, "1 Owls").await,
        };
        watch.catch_up().await;
        watch
    }

    /// Pulls to the end; returns what changed since the last pull.
    async fn catch_up(&mut self) -> Vec<Change> {
        let mut changes = Vec::new();
        loop {
            let page = self
                .lead
                .sync_pull(&PullQuery {
                    cursor: self.cursor.clone(),
                    limit: Some(1000),
                })
                .await
                .unwrap();
            changes.extend(page.changes);
            self.cursor = Some(page.cursor);
            if !page.more {
                return changes;
            }
        }
    }

    async fn assert_nothing_written(&mut self, after: &str) {
        let changes = self.catch_up().await;
        assert_eq!(changes, [], "{after} changed something");
        let owls = self.lead.class(self.owls.id).await.unwrap();
        assert_eq!(owls.learner_count, self.owls.learner_count, "{after}");
        assert_eq!(owls, self.owls, "{after}");
    }
}

/// The status and error body of a call that must fail.
fn refused<T: std::fmt::Debug>(result: Result<T, Error>) -> (u16, ErrorBody) {
    match result {
        Err(Error::Api { status, body }) => (status, body),
        Err(other) => panic!("expected the server to refuse, got {other}"),
        Ok(value) => panic!("expected the server to refuse, but it accepted: {value:?}"),
    }
}

/// The status and error body of a raw call that must fail.
fn raw_refused(answer: (u16, Vec<u8>)) -> (u16, ErrorBody) {
    let (status, bytes) = answer;
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "status {status}: not an API error body ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, body)
}

fn new_learner(given: &str, family: &str, class: ClassId) -> NewLearner {
    NewLearner {
        id: None,
        given_name: given.into(),
        family_name: family.into(),
        username: None,
        email: None,
        classes: vec![class],
    }
}

async fn search(client: &Client, q: &str) -> Vec<LearnerRecord> {
    let page = client
        .learners(&LearnerQuery {
            q: Some(q.into()),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.total as usize,
        page.items.len(),
        "{q:?}: more than a page"
    );
    page.items
}

fn names(learners: &[LearnerRecord]) -> Vec<String> {
    learners
        .iter()
        .map(|l| format!("{} {}", l.given_name, l.family_name))
        .collect()
}

async fn a_body_that_is_not_json_or_has_the_wrong_shape_is_refused_and_writes_nothing(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let mut watch = Watch::start(&world).await;
    let owls = watch.owls.id;
    let zoe = learner(&world.lead, "zoe.adams").await;
    let json = Some("application/json");
    let post = |path: &'static str, ct: Option<&'static str>, body: Vec<u8>| {
        let lead = world.lead.clone();
        async move {
            lead.raw(HttpMethod::POST, path, ct, Some(body))
                .await
                .unwrap()
        }
    };

    let syntax_errors: [&[u8]; 4] = [
        br#"{"given_name": "Ann", "family_name": "#,
        br#"{"given_name": 'Ann'}"#,
        b"\xff\xfe{\x00}",
        b"",
    ];
    for body in syntax_errors {
        let (status, error) = raw_refused(post(paths::LEARNERS, json, body.to_vec()).await);
        let shown = String::from_utf8_lossy(body);
        assert_eq!(
            (status, error.code),
            (400, ErrorCode::BadRequest),
            "{shown}"
        );
        assert!(
            error.message.contains("not valid JSON"),
            "{shown}: {}",
            error.message
        );
        watch
            .assert_nothing_written(&format!("the body {shown:?}"))
            .await;
    }

    let wrong_shapes = [
        r#"{"given_name": 7, "family_name": "Lee"}"#.to_owned(),
        r#"{"family_name": "Lee"}"#.to_owned(),
        r#"["Ann", "Lee"]"#.to_owned(),
        format!(r#"{{"given_name": "Ann", "family_name": "Lee", "classes": "{owls}"}}"#),
        r#"{"given_name": "Ann", "family_name": "Lee", "classes": ["1 Owls"]}"#.to_owned(),
    ];
    for body in &wrong_shapes {
        let (status, error) = raw_refused(post(paths::LEARNERS, json, body.clone().into()).await);
        assert_eq!((status, error.code), (400, ErrorCode::BadRequest), "{body}");
        assert!(
            error.message.contains("wrong shape"),
            "{body}: {}",
            error.message
        );
        watch.assert_nothing_written(body).await;
    }
    let patch = world
        .lead
        .raw(
            HttpMethod::PATCH,
            &paths::LEARNER.with([&zoe.id]),
            json,
            Some(br#"{"email": 42}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(raw_refused(patch).1.code, ErrorCode::BadRequest);
    let unknown_op = br#"{"operations": [{"id": "0190a0b0-0000-7000-8000-000000000001",
        "op": {"type": "learner_explode", "learner_id": "0190a0b0-0000-7000-8000-000000000002"}}]}"#;
    let (status, error) = raw_refused(post(paths::SYNC_PUSH, json, unknown_op.to_vec()).await);
    assert_eq!((status, error.code), (400, ErrorCode::BadRequest));
    watch.assert_nothing_written("a malformed push").await;

    // The same, valid, body without saying it is JSON.
    let valid = format!(r#"{{"given_name": "Ann", "family_name": "Lee", "classes": ["{owls}"]}}"#);
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let (status, error) =
            raw_refused(post(paths::LEARNERS, content_type, valid.clone().into()).await);
        assert_eq!(
            (status, error.code),
            (415, ErrorCode::UnsupportedMediaType),
            "{content_type:?}"
        );
        assert!(
            error.message.contains("application/json"),
            "{}",
            error.message
        );
        watch
            .assert_nothing_written(&format!("content type {content_type:?}"))
            .await;
    }
    assert_eq!(world.lead.learner(zoe.id).await.unwrap(), zoe);

    // With the right content type the same body is accepted: the refusals above were about
    // the form of the request, not its content.
    let (status, _) = post(paths::LEARNERS, json, valid.into()).await;
    assert_eq!(status, 201);
    assert_eq!(
        world.lead.class(owls).await.unwrap().learner_count,
        watch.owls.learner_count + 1
    );
    world.stop().await;
}

async fn a_body_over_one_mebibyte_is_refused_as_too_large(backend: Backend) {
    let world = World::start(backend).await;
    let mut watch = Watch::start(&world).await;
    let owls = watch.owls.id;
    let huge_name = "A".repeat(1024 * 1024 + 1);
    let body = serde_json::json!({
        "given_name": huge_name,
        "family_name": "Lee",
        "classes": [owls],
    });
    let answer = world
        .lead
        .raw(
            HttpMethod::POST,
            paths::LEARNERS,
            Some("application/json"),
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await
        .expect("the server answers an oversized body rather than dropping the connection");
    let (status, error) = raw_refused(answer);
    assert_eq!((status, error.code), (413, ErrorCode::PayloadTooLarge));
    assert!(error.message.contains("1024 KiB"), "{}", error.message);
    watch.assert_nothing_written("an oversized learner").await;

    // A push made large by many operations, through the real client.
    let zoe = learner(&world.lead, "zoe.adams").await;
    let operations: Vec<Operation> = (0..400)
        .map(|i| Operation {
            id: OperationId::generate(),
            base_version: None,
            op: OpKind::LearnerUpdate {
                learner_id: zoe.id,
                given_name: Some(format!("{i}{}", "Z".repeat(3000))),
                family_name: None,
                username: None,
                email: None,
            },
        })
        .collect();
    let (status, error) = refused(world.lead.sync_push(&PushRequest { operations }).await);
    assert_eq!((status, error.code), (413, ErrorCode::PayloadTooLarge));
    watch.assert_nothing_written("an oversized push").await;
    assert_eq!(world.lead.learner(zoe.id).await.unwrap(), zoe);
    world.stop().await;
}

async fn invalid_emails_are_refused_naming_the_problem(backend: Backend) {
    let world = World::start(backend).await;
    let mut watch = Watch::start(&world).await;
    let owls = watch.owls.id;
    let siobhan = learner(&world.teacher1, "siobhan.obrien").await;
    let long_local = format!("{}@school.example", "a".repeat(65));
    let too_long = format!("zoe@{}.example", "a".repeat(250));
    let cases: [(&str, &str); 10] = [
        ("zoe", "no '@'"),
        ("zoe.school.example", "no '@'"),
        ("@school.example", "before '@'"),
        (&long_local, "before '@'"),
        ("zo e@school.example", "' ' is not allowed"),
        ("zoe<script>@school.example", "'<' is not allowed"),
        ("zoe@localhost", "domain"),
        ("zoe@school..example", "domain"),
        ("zoe@@school.example", "domain"),
        (&too_long, "at most 254 characters"),
    ];
    for (email, needle) in cases {
        let mut new = new_learner("Zed", "Ward", owls);
        new.email = Some(email.into());
        let (status, error) = refused(world.teacher1.learner_create(&new).await);
        assert_eq!(
            (status, error.code),
            (400, ErrorCode::InvalidInput),
            "{email}"
        );
        assert_eq!(error.field.as_deref(), Some("email"), "{email}");
        assert!(error.message.contains(needle), "{email}: {}", error.message);

        let patch = LearnerPatch {
            email: Some(Some(email.into())),
            ..Default::default()
        };
        let (status, error) = refused(world.teacher1.learner_update(siobhan.id, &patch).await);
        assert_eq!(
            (status, error.code),
            (400, ErrorCode::InvalidInput),
            "{email}"
        );
        assert_eq!(error.field.as_deref(), Some("email"), "{email}");
        assert!(error.message.contains(needle), "{email}: {}", error.message);
        watch.assert_nothing_written(email).await;
    }
    assert_eq!(world.teacher1.learner(siobhan.id).await.unwrap(), siobhan);
    world.stop().await;
}

/// Regression: names refuse invisible and bidirectional control characters, but emails let
/// them through. An RTL override makes a list show the address reversed, and a zero-width
/// space gives an address that looks exactly like a taken one yet counts as new.
async fn an_email_with_invisible_or_direction_changing_characters_is_refused(backend: Backend) {
    let world = World::start(backend).await;
    let mut watch = Watch::start(&world).await;
    let owls = watch.owls.id;
    let tobias = search(&world.lead, "tobias becker").await.remove(0);
    let tobias_email = tobias.email.expect("Tobias keeps his email");
    let lookalike = format!("\u{200B}{tobias_email}");
    for email in [
        "zoe\u{202E}elpmaxe.loohcs@school.example",
        "zoe\u{2066}@school.example",
        "zo\u{200B}e@school.example",
        lookalike.as_str(),
    ] {
        let mut new = new_learner("Zed", "Ward", owls);
        new.email = Some(email.into());
        let (status, error) = refused(world.lead.learner_create(&new).await);
        // Refused as invalid, or recognised as the address it imitates: either will do.
        assert!(
            matches!(
                (status, error.code),
                (400, ErrorCode::InvalidInput) | (409, ErrorCode::EmailTaken)
            ),
            "{email:?}: {status} {error:?}"
        );
        assert_eq!(error.field.as_deref(), Some("email"), "{email:?}");
        watch.assert_nothing_written(&format!("{email:?}")).await;
    }
    world.stop().await;
}

async fn a_taken_username_is_refused_naming_its_holder(backend: Backend) {
    let world = World::start(backend).await;
    let mut watch = Watch::start(&world).await;
    let owls = watch.owls.id;
    let zoe = learner(&world.lead, "zoe.adams").await;
    for (username, holder) in [
        ("lukasz.kowalski", "Łukasz Kowalski (lukasz.kowalski)"),
        ("Lukasz.KOWALSKI", "Łukasz Kowalski (lukasz.kowalski)"),
        (" LUKASZ.kowalski ", "Łukasz Kowalski (lukasz.kowalski)"),
        ("teacher1", "the member of staff Mr Hughes (teacher1)"),
        (
            "tobias.becker",
            "the deactivated account of Tobias Becker (tobias.becker)",
        ),
    ] {
        let mut new = new_learner("Luke", "Kowal", owls);
        new.username = Some(username.into());
        let (status, error) = refused(world.lead.learner_create(&new).await);
        assert_eq!(
            (status, error.code),
            (409, ErrorCode::UsernameTaken),
            "{username}"
        );
        assert_eq!(error.field.as_deref(), Some("username"));
        assert!(
            error.message.contains(holder),
            "{username}: {}",
            error.message
        );

        let patch = LearnerPatch {
            username: Some(username.into()),
            base_version: Some(zoe.version),
            ..Default::default()
        };
        let (status, error) = refused(world.lead.learner_update(zoe.id, &patch).await);
        assert_eq!(
            (status, error.code),
            (409, ErrorCode::UsernameTaken),
            "{username}"
        );
        assert!(
            error.message.contains(holder),
            "{username}: {}",
            error.message
        );
        watch.assert_nothing_written(username).await;
    }
    assert_eq!(world.lead.learner(zoe.id).await.unwrap(), zoe);
    world.stop().await;
}

async fn a_taken_email_is_refused_also_when_its_holder_is_deactivated(backend: Backend) {
    let world = World::start(backend).await;
    let mut watch = Watch::start(&world).await;
    let owls = watch.owls.id;
    let found = search(&world.lead, "tobias becker").await;
    assert_eq!(names(&found), ["Tobias Becker"]);
    let tobias = &found[0];
    assert!(!tobias.active, "the demo's Tobias Becker is deactivated");
    let tobias_email = tobias.email.clone().expect("Tobias keeps his email");
    let holder = world
        .lead
        .learners(&LearnerQuery {
            class_id: Some(owls),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|l| l.active && l.email.is_some())
        .expect("an active learner of 1 Owls with an email");
    let holder_email = holder.email.clone().unwrap();
    let holder_name = format!("{} {}", holder.given_name, holder.family_name);
    let zoe = learner(&world.lead, "zoe.adams").await;

    let deactivated = "the deactivated account of Tobias Becker";
    for (email, says, not) in [
        (tobias_email.clone(), deactivated, None),
        (tobias_email.to_uppercase(), deactivated, None),
        (format!("  {tobias_email} "), deactivated, None),
        (
            holder_email.clone(),
            holder_name.as_str(),
            Some("deactivated"),
        ),
        (
            holder_email.to_uppercase(),
            holder_name.as_str(),
            Some("deactivated"),
        ),
    ] {
        let mut new = new_learner("Tess", "Becker", owls);
        new.email = Some(email.clone());
        let (status, error) = refused(world.lead.learner_create(&new).await);
        assert_eq!(
            (status, error.code),
            (409, ErrorCode::EmailTaken),
            "{email}"
        );
        assert_eq!(error.field.as_deref(), Some("email"));
        assert!(error.message.contains(says), "{email}: {}", error.message);
        if let Some(not) = not {
            assert!(!error.message.contains(not), "{email}: {}", error.message);
        }

        // Someone else's email on an existing learner.
        let patch = LearnerPatch {
            email: Some(Some(email.clone())),
            ..Default::default()
        };
        let (status, error) = refused(world.lead.learner_update(zoe.id, &patch).await);
        assert_eq!(
            (status, error.code),
            (409, ErrorCode::EmailTaken),
            "{email}"
        );
        assert!(error.message.contains(says), "{email}: {}", error.message);
        watch.assert_nothing_written(&email).await;
    }
    // The same through sync push: rejected, not applied.
    let pushed = world
        .lead
        .sync_push(&PushRequest {
            operations: vec![Operation {
                id: OperationId::generate(),
                base_version: Some(zoe.version),
                op: OpKind::LearnerUpdate {
                    learner_id: zoe.id,
                    given_name: None,
                    family_name: None,
                    username: None,
                    email: Some(Some(tobias_email.to_uppercase())),
                },
            }],
        })
        .await
        .unwrap();
    match &pushed.results[0].outcome {
        Outcome::Rejected { error } => assert_eq!(error.code, ErrorCode::EmailTaken),
        other => panic!("expected a rejection, got {other:?}"),
    }
    watch.assert_nothing_written("a pushed taken email").await;
    assert_eq!(world.lead.learner(zoe.id).await.unwrap(), zoe);

    // An address typed with a decomposed accent is the same address as the composed one.
    let patch = LearnerPatch {
        email: Some(Some("zoë.adams@pupils.example".into())),
        ..Default::default()
    };
    world.lead.learner_update(zoe.id, &patch).await.unwrap();
    watch.catch_up().await;
    let mut new = new_learner("Zoe", "Adamson", owls);
    new.email = Some("ZOE\u{0308}.Adams@pupils.example".into());
    let (status, error) = refused(world.lead.learner_create(&new).await);
    assert_eq!((status, error.code), (409, ErrorCode::EmailTaken));
    assert!(error.message.contains("Zoë Adams"), "{}", error.message);
    watch.assert_nothing_written("a decomposed accent").await;
    world.stop().await;
}

async fn a_class_name_taken_in_any_letter_case_is_refused(backend: Backend) {
    let world = World::start(backend).await;
    let mut watch = Watch::start(&world).await;
    for name in ["4b", "4B", " 2  FOXES ", "reception robins"] {
        let (status, error) = refused(
            world
                .lead
                .class_create(&NewClass {
                    id: None,
                    name: name.into(),
                    year_group: None,
                })
                .await,
        );
        assert_eq!(
            (status, error.code),
            (409, ErrorCode::ClassNameTaken),
            "{name}"
        );
        assert_eq!(error.field.as_deref(), Some("name"));
        assert!(
            error.message.contains("already a class named"),
            "{}",
            error.message
        );
        watch.assert_nothing_written(name).await;
    }
    let owls = watch.owls.clone();
    let (status, error) = refused(
        world
            .lead
            .class_update(
                owls.id,
                &ClassPatch {
                    name: Some("3 BADGERS".into()),
                    base_version: Some(owls.version),
                    ..Default::default()
                },
            )
            .await,
    );
    assert_eq!((status, error.code), (409, ErrorCode::ClassNameTaken));
    watch
        .assert_nothing_written("renaming onto another class")
        .await;
    let pushed = world
        .lead
        .sync_push(&PushRequest {
            operations: vec![Operation {
                id: OperationId::generate(),
                base_version: None,
                op: OpKind::ClassCreate {
                    class_id: ClassId::generate(),
                    name: "6 HERONS".into(),
                    year_group: None,
                },
            }],
        })
        .await
        .unwrap();
    match &pushed.results[0].outcome {
        Outcome::Rejected { error } => assert_eq!(error.code, ErrorCode::ClassNameTaken),
        other => panic!("expected a rejection, got {other:?}"),
    }
    watch
        .assert_nothing_written("a pushed taken class name")
        .await;
    assert_eq!(world.lead.classes().await.unwrap().len(), 7);

    // A class may change the case of its own name.
    let renamed = world
        .teacher2
        .class_update(
            class(&world.teacher2, "4B").await.id,
            &ClassPatch {
                name: Some("4b".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "4b");
    world.stop().await;
}

async fn html_and_formula_text_in_names_are_stored_and_returned_verbatim(backend: Backend) {
    let world = World::start(backend).await;
    let mut watch = Watch::start(&world).await;
    let owls = watch.owls.id;
    let given = "<img src=x onerror=alert(1)>";
    let family = "=HYPERLINK(\"x\")";
    let created = world
        .teacher1
        .learner_create(&new_learner(given, family, owls))
        .await
        .unwrap();
    assert_eq!(
        (created.given_name.as_str(), created.family_name.as_str()),
        (given, family)
    );
    let fetched = world.lead.learner(created.id).await.unwrap();
    assert_eq!(
        (fetched.given_name.as_str(), fetched.family_name.as_str()),
        (given, family)
    );
    let found = search(&world.lead, "hyperlink").await;
    assert_eq!(found, std::slice::from_ref(&fetched));
    let pulled: Vec<_> = watch
        .catch_up()
        .await
        .into_iter()
        .filter_map(|c| match c {
            Change::Upsert {
                record: Record::Learner(l),
            } if l.id == created.id => Some(l),
            _ => None,
        })
        .collect();
    assert_eq!(pulled, [fetched]);

    let class_name = "<b>Art</b> =SUM(A1:A9)";
    let art = world
        .lead
        .class_create(&NewClass {
            id: None,
            name: class_name.into(),
            year_group: Some("+Year 5 @home".into()),
        })
        .await
        .unwrap();
    let art = world.teacher1.class(art.id).await.map(|c| c.name);
    // Teachers do not see a class they do not teach; the lead sees it verbatim.
    assert_eq!(art.unwrap_err().code(), Some(ErrorCode::NotFound));
    let art = class(&world.lead, class_name).await;
    assert_eq!(art.year_group.as_deref(), Some("+Year 5 @home"));
    world.stop().await;
}

async fn a_name_with_a_right_to_left_override_is_refused(backend: Backend) {
    let world = World::start(backend).await;
    let mut watch = Watch::start(&world).await;
    let owls = watch.owls.id;
    let zoe = learner(&world.teacher1, "zoe.adams").await;
    for (given, family, field, code_point) in [
        ("Zoe\u{202E}gnp.exe", "Adams", "given_name", "U+202E"),
        ("Zoe", "\u{202E}smadA", "family_name", "U+202E"),
        ("Zoe", "Adams\u{2067}", "family_name", "U+2067"),
    ] {
        let (status, error) = refused(
            world
                .teacher1
                .learner_create(&new_learner(given, family, owls))
                .await,
        );
        assert_eq!(
            (status, error.code),
            (400, ErrorCode::InvalidInput),
            "{given:?} {family:?}"
        );
        assert_eq!(error.field.as_deref(), Some(field));
        assert!(error.message.contains(code_point), "{}", error.message);

        let patch = LearnerPatch {
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            ..Default::default()
        };
        let (status, error) = refused(world.teacher1.learner_update(zoe.id, &patch).await);
        assert_eq!((status, error.code), (400, ErrorCode::InvalidInput));
        assert_eq!(error.field.as_deref(), Some(field));
        watch
            .assert_nothing_written(&format!("{given:?} {family:?}"))
            .await;
    }
    let (status, error) = refused(
        world
            .lead
            .class_create(&NewClass {
                id: None,
                name: "Art\u{202E}".into(),
                year_group: None,
            })
            .await,
    );
    assert_eq!((status, error.code), (400, ErrorCode::InvalidInput));
    assert_eq!(error.field.as_deref(), Some("name"));
    watch
        .assert_nothing_written("a class name with U+202E")
        .await;
    assert_eq!(world.teacher1.learner(zoe.id).await.unwrap(), zoe);
    world.stop().await;
}

async fn search_ignores_case_and_accents_and_transliterates(backend: Backend) {
    let world = World::start(backend).await;
    for (q, expected) in [
        ("LUKASZ", "Łukasz Kowalski"),
        ("łukasz", "Łukasz Kowalski"),
        ("ŁUKASZ kowalski", "Łukasz Kowalski"),
        ("kowalski lukasz", "Łukasz Kowalski"),
        ("obrien", "Siobhán O'Brien"),
        ("O'BRIEN", "Siobhán O'Brien"),
        ("siobhan", "Siobhán O'Brien"),
        ("aleksandr", "Александр Петров"),
        ("АЛЕКСАНДР", "Александр Петров"),
        ("nguyen van an", "Văn An Nguyễn"),
    ] {
        assert_eq!(names(&search(&world.lead, q).await), [expected], "{q:?}");
    }
    // A teacher finds only their own learners: Łukasz is in 3 Badgers, not teacher3's.
    assert_eq!(
        names(&search(&world.teacher3, "lukasz").await),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&search(&world.teacher2, "LUKASZ").await),
        ["Łukasz Kowalski"]
    );
    world.stop().await;
}

async fn search_pages_cover_every_result_exactly_once(backend: Backend) {
    let world = World::start(backend).await;
    let everyone = search(&world.lead, "a").await;
    assert!(everyone.len() > 50, "a common letter matches many learners");
    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let page = world
            .lead
            .learners(&LearnerQuery {
                q: Some("a".into()),
                offset: Some(offset),
                limit: Some(7),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total as usize, everyone.len());
        assert!(page.items.len() <= 7);
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len() as u32;
        paged.extend(page.items);
    }
    let ids = |ls: &[LearnerRecord]| ls.iter().map(|l| l.id).collect::<Vec<_>>();
    assert_eq!(
        ids(&paged),
        ids(&everyone),
        "pages in order, none missed or repeated"
    );
    let mut unique = ids(&paged);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), paged.len());
    world.stop().await;
}

async fn percent_and_underscore_in_a_search_are_not_wildcards(backend: Backend) {
    let world = World::start(backend).await;
    let owls = class(&world.lead, "1 Owls").await.id;
    let mut new = new_learner("Top%", "Score_Keeper", owls);
    new.username = Some("score_keeper".into());
    world.lead.learner_create(&new).await.unwrap();

    assert_eq!(
        names(&search(&world.lead, "score_keeper").await),
        ["Top% Score_Keeper"]
    );
    assert_eq!(
        names(&search(&world.lead, "top%").await),
        ["Top% Score_Keeper"]
    );
    // Punctuation does not count in search, so on their own `%` and `_` match nothing —
    // and above all they are not wildcards that list everyone.
    for q in ["%", "_", "%_%"] {
        let found = search(&world.lead, q).await;
        assert_eq!(names(&found), Vec::<String>::new(), "{q:?}");
    }
    world.stop().await;
}

async fn a_sync_cursor_or_limit_the_server_never_offers_is_refused(backend: Backend) {
    let world = World::start(backend).await;
    for cursor in ["garbage", "1.9.x", "-5.1.x", "12"] {
        let (status, error) = refused(
            world
                .teacher1
                .sync_pull(&PullQuery {
                    cursor: Some(cursor.into()),
                    limit: None,
                })
                .await,
        );
        assert_eq!(
            (status, error.code),
            (400, ErrorCode::BadRequest),
            "{cursor}"
        );
        assert_eq!(error.field.as_deref(), Some("cursor"));
    }
    for limit in [0, 1001] {
        let (status, error) = refused(
            world
                .teacher1
                .sync_pull(&PullQuery {
                    cursor: None,
                    limit: Some(limit),
                })
                .await,
        );
        assert_eq!(
            (status, error.code),
            (400, ErrorCode::InvalidInput),
            "{limit}"
        );
        assert_eq!(error.field.as_deref(), Some("limit"));
    }
    let (status, error) = raw_refused(
        world
            .teacher1
            .raw(
                HttpMethod::GET,
                "/api/v1/sync/changes?limit=many",
                None,
                None,
            )
            .await
            .unwrap(),
    );
    assert_eq!((status, error.code), (400, ErrorCode::BadRequest));
    world.stop().await;
}
