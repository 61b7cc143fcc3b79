//! Passwords, access codes, exports and the audit log, through the API as the app and the
//! command line use it, on both database engines.

use classkeys_client::HttpMethod;
use classkeys_domain::generator::{self, PasswordStyle};
use classkeys_protocol::credentials::{
    AccessCode, AuditAction, AuditActorKind, AuditQuery, ClassPasswordReset, CodesPurpose,
    LearnerPasswordReset, LearnerSignInRequest, PasswordSource, PasswordState, SchoolExportKind,
    SchoolExportRequest,
};
use classkeys_protocol::roster::{LearnerQuery, LearnerRecord, NewClass, NewLearner};
use classkeys_protocol::{ErrorCode, paths};
use classkeys_server::Backend;

use crate::harness::{
    self, PASSWORD, World, active_learners, generated, learner_sign_in, learner_with_password,
    new_passwords, reset,
};
use crate::on_both_backends;

on_both_backends!(
    a_reset_password_signs_the_learner_in_and_the_old_one_no_longer_does,
    a_weak_typed_password_is_refused_with_its_reason,
    a_generated_password_must_meet_the_rules_of_the_learners_own_year_group,
    a_teacher_set_password_is_shown_exactly_while_it_signs_the_learner_in,
    an_individual_class_reset_gives_every_learner_their_own_working_password,
    a_class_reset_is_refused_whole_when_the_class_changed_since_the_preview,
    codes_show_teacher_set_passwords_only_when_revealed_and_every_reveal_is_audited,
    only_lead_teachers_export_the_school_and_only_after_their_password,
    a_rotated_parent_code_replaces_the_old_one,
    no_password_or_parent_code_is_stored_in_the_clear,
    unreadable_school_settings_refuse_a_reset_and_the_old_password_keeps_working,
    a_damaged_learner_id_is_an_error_never_a_made_up_learner,
    a_downloaded_code_list_is_named_after_its_class_in_any_script_and_never_cached,
    an_entry_the_server_made_reads_as_the_servers_in_its_school_only,
);

async fn a_reset_password_signs_the_learner_in_and_the_old_one_no_longer_does(backend: Backend) {
    let world = World::start(backend).await;
    let learner = active_learners(&world.teacher1, "1 Owls").await.remove(0);
    assert_eq!(learner.password, PasswordState::NotSet);

    let first = generated(PasswordStyle::Words);
    let codes = reset(
        &world.teacher1,
        learner.id,
        &first,
        PasswordSource::Generated,
    )
    .await;
    assert_eq!(codes[0].password.as_deref(), Some(first.as_str()));
    assert_eq!(codes[0].password_state, PasswordState::SetByTeacher);
    let session = learner_sign_in(&world, &learner.username, &first)
        .await
        .unwrap();
    assert_eq!(session.learner_me().await.unwrap().learner_id, learner.id);

    let second = generated(PasswordStyle::Pin);
    reset(
        &world.teacher1,
        learner.id,
        &second,
        PasswordSource::Generated,
    )
    .await;
    assert_eq!(
        learner_sign_in(&world, &learner.username, &first)
            .await
            .err(),
        Some(ErrorCode::InvalidCredentials),
        "the old password must stop working"
    );
    learner_sign_in(&world, &learner.username, &second)
        .await
        .unwrap();
    // The reset ended the session opened with the old password.
    assert_eq!(
        session.learner_me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    // A learner session opens no staff endpoint.
    assert_eq!(
        session.classes().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    // The record every replica syncs says who set the password.
    let record = harness::learner(&world.teacher1, &learner.username).await;
    assert_eq!(record.password, PasswordState::SetByTeacher);
    world.stop().await;
}

async fn a_weak_typed_password_is_refused_with_its_reason(backend: Backend) {
    let world = World::start(backend).await;
    let learner = active_learners(&world.teacher1, "3 Badgers")
        .await
        .remove(0);
    for (weak, reason) in [
        ("password", "guess"),
        ("abc", "too short"),
        ("=HYPERLINK(1)", "formula"),
        (learner.username.as_str(), "name"),
    ] {
        let err = world
            .teacher1
            .learner_password_reset(
                learner.id,
                &LearnerPasswordReset {
                    password: weak.into(),
                    source: PasswordSource::Typed,
                    must_change: false,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidInput), "{weak}");
        let message = err.to_string().to_lowercase();
        assert!(message.contains(reason), "{weak}: {message}");
    }
    // Claiming a typed password was generated does not skip the checks.
    let err = world
        .teacher1
        .learner_password_reset(
            learner.id,
            &LearnerPasswordReset {
                password: "password".into(),
                source: PasswordSource::Generated,
                must_change: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidInput));
    // A strong typed password is accepted and works.
    reset(
        &world.teacher1,
        learner.id,
        "Violet-Harbour-Kite-93",
        PasswordSource::Typed,
    )
    .await;
    learner_sign_in(&world, &learner.username, "Violet-Harbour-Kite-93")
        .await
        .unwrap();
    world.stop().await;
}

async fn a_teacher_set_password_is_shown_exactly_while_it_signs_the_learner_in(backend: Backend) {
    let world = World::start(backend).await;
    let (learner, given) =
        learner_with_password(&world.teacher1, "3 Badgers", PasswordStyle::Words).await;
    let session = learner_sign_in(&world, &learner.username, &given)
        .await
        .unwrap();
    let shown = async || {
        world
            .teacher1
            .learner_access_codes(learner.id, CodesPurpose::Reveal)
            .await
            .unwrap()
            .codes
            .remove(0)
            .password
    };
    assert_eq!(shown().await.as_deref(), Some(given.as_str()));

    // Deactivated: the password signs nobody in, so it is not shown either.
    let record = world
        .teacher1
        .learner_set_active(learner.id, false, None)
        .await
        .unwrap();
    assert_eq!(
        session.learner_me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    assert_eq!(
        learner_sign_in(&world, &learner.username, &given)
            .await
            .err(),
        Some(ErrorCode::InvalidCredentials)
    );
    assert_eq!(shown().await, None);

    // Back again: the same password signs them in and can be shown; the session that
    // deactivation ended stays ended.
    world
        .teacher1
        .learner_set_active(learner.id, true, Some(record.version))
        .await
        .unwrap();
    learner_sign_in(&world, &learner.username, &given)
        .await
        .unwrap();
    assert_eq!(shown().await.as_deref(), Some(given.as_str()));
    assert_eq!(
        session.learner_me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
    world.stop().await;
}

/// A Year 9 learner in the lead's new class, signed in nowhere yet.
async fn year_nine_learner(world: &World) -> LearnerRecord {
    let class = world
        .lead
        .class_create(&NewClass {
            id: None,
            name: "9 Hawks".into(),
            year_group: Some("Year 9".into()),
        })
        .await
        .unwrap();
    world
        .lead
        .learner_create(&NewLearner {
            id: None,
            given_name: "Amira".into(),
            family_name: "Haddad".into(),
            username: None,
            email: None,
            classes: vec![class.id],
        })
        .await
        .unwrap()
}

async fn a_generated_password_must_meet_the_rules_of_the_learners_own_year_group(backend: Backend) {
    let world = World::start(backend).await;
    let learner = year_nine_learner(&world).await;
    // A six-digit PIN is generated for the youngest; Year 9's rules ask for ten characters.
    let pin = generated(PasswordStyle::Pin);
    let err = world
        .lead
        .learner_password_reset(
            learner.id,
            &LearnerPasswordReset {
                password: pin.clone(),
                source: PasswordSource::Generated,
                must_change: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidInput));
    assert!(
        err.to_string()
            .contains("too weak for this learner's year group"),
        "{err}"
    );
    assert_eq!(
        learner_sign_in(&world, &learner.username, &pin).await.err(),
        Some(ErrorCode::InvalidCredentials),
        "nothing was set"
    );
    // The same goes for a whole class reset.
    let class = harness::class(&world.lead, "9 Hawks").await;
    let err = world
        .lead
        .class_passwords_reset(
            class.id,
            &ClassPasswordReset::Same {
                password: pin.clone(),
                source: PasswordSource::Generated,
                must_change: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidInput), "{err}");
    // The year group's own style is accepted, and signs the learner in.
    let random = generated(PasswordStyle::Random);
    reset(&world.lead, learner.id, &random, PasswordSource::Generated).await;
    learner_sign_in(&world, &learner.username, &random)
        .await
        .unwrap();
    world.stop().await;
}

async fn an_individual_class_reset_gives_every_learner_their_own_working_password(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let class = harness::class(&world.teacher1, "1 Owls").await;
    let learners = active_learners(&world.teacher1, "1 Owls").await;
    let passwords = new_passwords(&learners, PasswordStyle::Words);
    let codes = world
        .teacher1
        .class_passwords_reset(
            class.id,
            &ClassPasswordReset::Individual {
                passwords: passwords.clone(),
                must_change: true,
            },
        )
        .await
        .unwrap();
    for sent in &passwords {
        let shown = codes
            .codes
            .iter()
            .find(|c| c.learner_id == sent.learner_id)
            .unwrap();
        assert_eq!(shown.password.as_deref(), Some(sent.password.as_str()));
        assert!(shown.must_change);
        assert_eq!(shown.parent_code.len(), 9, "{:?}", shown.parent_code);
    }
    // Three learners sign in with their own password, and not with a neighbour's.
    for (i, learner) in learners.iter().take(3).enumerate() {
        let own = &passwords[i].password;
        let session = world
            .anon
            .learner_sign_in(&LearnerSignInRequest {
                school: "demo".into(),
                username: learner.username.clone(),
                password: own.clone(),
                device_token: None,
            })
            .await
            .unwrap();
        assert!(session.must_change_password);
        let neighbour = &passwords[i + 1].password;
        assert_eq!(
            learner_sign_in(&world, &learner.username, neighbour)
                .await
                .err(),
            Some(ErrorCode::InvalidCredentials)
        );
    }
    world.stop().await;
}

async fn a_class_reset_is_refused_whole_when_the_class_changed_since_the_preview(backend: Backend) {
    let world = World::start(backend).await;
    let class = harness::class(&world.teacher1, "3 Badgers").await;
    let learners = active_learners(&world.teacher1, "3 Badgers").await;
    let before = world
        .teacher1
        .class_access_codes(class.id, CodesPurpose::Reveal)
        .await
        .unwrap();
    // The preview misses one learner (as if they joined after it was made).
    let passwords = new_passwords(&learners[1..], PasswordStyle::Words);
    let err = world
        .teacher1
        .class_passwords_reset(
            class.id,
            &ClassPasswordReset::Individual {
                passwords,
                must_change: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ClassChanged));
    assert!(err.to_string().contains("preview"), "{err}");
    // Nobody's password changed.
    let after = world
        .teacher1
        .class_access_codes(class.id, CodesPurpose::Reveal)
        .await
        .unwrap();
    assert_eq!(before.codes, after.codes);
    let first = before
        .codes
        .iter()
        .find(|c| c.password.is_some())
        .expect("the demo class has teacher-set passwords");
    learner_sign_in(&world, &first.username, first.password.as_deref().unwrap())
        .await
        .unwrap();
    world.stop().await;
}

async fn codes_show_teacher_set_passwords_only_when_revealed_and_every_reveal_is_audited(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let class = harness::class(&world.teacher1, "3 Badgers").await;
    let hidden = world
        .teacher1
        .class_access_codes(class.id, CodesPurpose::View)
        .await
        .unwrap();
    assert!(hidden.codes.iter().all(|c| c.password.is_none()));
    assert!(hidden.codes.iter().all(|c| c.parent_code.len() == 9));
    assert!(
        hidden.sign_in_url.ends_with("/s/demo/sign-in"),
        "{}",
        hidden.sign_in_url
    );
    let shown = world
        .teacher1
        .class_access_codes(class.id, CodesPurpose::Reveal)
        .await
        .unwrap();
    let by_learner = shown
        .codes
        .iter()
        .find(|c| c.password_state == PasswordState::SetByLearner)
        .expect("the demo has a learner who set their own password");
    assert_eq!(
        by_learner.password, None,
        "a learner's own password is never shown"
    );
    let teacher_set: Vec<&AccessCode> = shown
        .codes
        .iter()
        .filter(|c| c.password_state == PasswordState::SetByTeacher)
        .collect();
    assert!(teacher_set.len() > 20);
    assert!(teacher_set.iter().all(|c| c.password.is_some()));
    // The parent codes are the same each time they are shown.
    assert_eq!(
        hidden
            .codes
            .iter()
            .map(|c| &c.parent_code)
            .collect::<Vec<_>>(),
        shown
            .codes
            .iter()
            .map(|c| &c.parent_code)
            .collect::<Vec<_>>()
    );

    // The reveal is in the log for teacher1 and the lead, not for teacher3 (other classes).
    let entry = |page: classkeys_protocol::credentials::AuditPage| {
        page.items
            .into_iter()
            .find(|e| e.action == AuditAction::PasswordsRevealed)
    };
    let seen = entry(world.teacher1.audit(&AuditQuery::default()).await.unwrap())
        .expect("teacher1 sees their reveal");
    assert_eq!(seen.class_name.as_deref(), Some("3 Badgers"));
    assert_eq!(seen.learner_count, shown.codes.len() as i64);
    assert_eq!(seen.actor_name.as_deref(), Some("Mr Hughes"));
    assert!(entry(world.lead.audit(&AuditQuery::default()).await.unwrap()).is_some());
    assert!(entry(world.teacher3.audit(&AuditQuery::default()).await.unwrap()).is_none());
    // Showing the list without passwords still showed every parent access code: recorded.
    let viewed = world
        .teacher1
        .audit(&AuditQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|e| e.action == AuditAction::ParentCodesShown)
        .expect("showing parent codes is in the log");
    assert_eq!(viewed.class_name.as_deref(), Some("3 Badgers"));
    assert_eq!(viewed.learner_count, hidden.codes.len() as i64);
    // Another class's codes are hidden from teacher3 altogether.
    assert_eq!(
        world
            .teacher3
            .class_access_codes(class.id, CodesPurpose::View)
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::NotFound)
    );
    world.stop().await;
}

async fn only_lead_teachers_export_the_school_and_only_after_their_password(backend: Backend) {
    let world = World::start(backend).await;
    let request = |password: &str| SchoolExportRequest {
        kind: SchoolExportKind::AccessCodes,
        password: password.into(),
    };
    let err = world
        .teacher1
        .school_export(&request(PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden));
    assert!(
        err.to_string()
            .contains("only lead teachers can export the whole school"),
        "{err}"
    );
    let err = world
        .lead
        .school_export(&request("not-my-password"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidCredentials));

    let csv = world.lead.school_export(&request(PASSWORD)).await.unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut reader = csv::ReaderBuilder::new().from_reader(&csv[3..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "Class");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // Every active learner of the school, and nobody from the other school.
    let active = world
        .lead
        .learners(&LearnerQuery {
            include_inactive: Some(false),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len() as i64, active.total);
    assert!(!rows.iter().any(|r| &r[3] == "other.learner"));
    // The demo's teacher-set passwords are in it, and open the learners' accounts.
    let with_password = rows
        .iter()
        .find(|r| r[0].contains("3 Badgers") && !r[4].starts_with('('))
        .unwrap();
    learner_sign_in(&world, &with_password[3], &with_password[4])
        .await
        .unwrap();

    let students = world
        .lead
        .school_export(&SchoolExportRequest {
            kind: SchoolExportKind::Students,
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    let text = String::from_utf8(students).unwrap();
    assert!(
        !text.contains(&with_password[4]),
        "the student database holds no passwords"
    );
    let log = world.lead.audit(&AuditQuery::default()).await.unwrap();
    let actions: Vec<AuditAction> = log.items.iter().map(|e| e.action).collect();
    assert!(actions.contains(&AuditAction::SchoolAccessCodesExported));
    assert!(actions.contains(&AuditAction::SchoolStudentsExported));
    world.stop().await;
}

async fn a_rotated_parent_code_replaces_the_old_one(backend: Backend) {
    let world = World::start(backend).await;
    let learner = active_learners(&world.teacher1, "1 Owls").await.remove(0);
    let before = world
        .teacher1
        .learner_access_codes(learner.id, CodesPurpose::View)
        .await
        .unwrap()
        .codes
        .remove(0)
        .parent_code;
    let after = world
        .teacher1
        .learner_parent_code_rotate(learner.id)
        .await
        .unwrap()
        .codes
        .remove(0)
        .parent_code;
    assert_ne!(before, after);
    assert_eq!(
        generator::normalise_parent_code(&after).as_deref(),
        Some(after.as_str())
    );
    let again = world
        .teacher1
        .learner_access_codes(learner.id, CodesPurpose::View)
        .await
        .unwrap()
        .codes
        .remove(0)
        .parent_code;
    assert_eq!(again, after);
    world.stop().await;
}

/// Everything the database holds, as bytes: the SQLite files (with the write-ahead log), or
/// a `pg_dump` of the PostgreSQL database.
fn stored_bytes(database_url: &str) -> Vec<u8> {
    if let Some(path) = database_url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap();
        let mut bytes = Vec::new();
        for suffix in ["", "-wal"] {
            if let Ok(file) = std::fs::read(format!("{path}{suffix}")) {
                bytes.extend(file);
            }
        }
        assert!(bytes.len() > 10_000, "the database files were read");
        bytes
    } else {
        let out = std::process::Command::new("pg_dump")
            .args(["--data-only", "--inserts", database_url])
            .output()
            .expect("pg_dump runs (Debian package postgresql-client)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.len() > 10_000, "the dump holds the school");
        out.stdout
    }
}

async fn no_password_or_parent_code_is_stored_in_the_clear(backend: Backend) {
    let world = World::start(backend).await;
    let class = harness::class(&world.teacher1, "1 Owls").await;
    let learners = active_learners(&world.teacher1, "1 Owls").await;
    let mut secrets: Vec<String> = Vec::new();
    let passwords = new_passwords(&learners, PasswordStyle::Random);
    secrets.extend(passwords.iter().map(|p| p.password.clone()));
    let codes = world
        .teacher1
        .class_passwords_reset(
            class.id,
            &ClassPasswordReset::Individual {
                passwords,
                must_change: false,
            },
        )
        .await
        .unwrap();
    secrets.extend(codes.codes.iter().map(|c| c.parent_code.clone()));
    let same = generated(PasswordStyle::Pronounceable);
    let badgers = harness::class(&world.teacher1, "3 Badgers").await;
    world
        .teacher1
        .class_passwords_reset(
            badgers.id,
            &ClassPasswordReset::Same {
                password: same.clone(),
                source: PasswordSource::Generated,
                must_change: false,
            },
        )
        .await
        .unwrap();
    secrets.push(same);
    // Reveal and export too: reading must not leave copies behind either.
    world
        .teacher1
        .class_access_codes(class.id, CodesPurpose::Reveal)
        .await
        .unwrap();
    world
        .teacher1
        .class_access_codes_export(class.id)
        .await
        .unwrap();

    let stored = stored_bytes(world.server.database_url());
    for secret in &secrets {
        assert!(secret.len() >= 6);
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret:?} is stored in the clear"
        );
    }
    world.stop().await;
}

async fn unreadable_school_settings_refuse_a_reset_and_the_old_password_keeps_working(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let (learner, given) =
        learner_with_password(&world.teacher1, "3 Badgers", PasswordStyle::Words).await;
    // Damaged settings could hold rules stricter than the defaults: falling back to the
    // defaults would let a weaker password through.
    sqlx::query("UPDATE school SET settings = $1")
        .bind(r#"{"passwords": "strict"}"#)
        .execute(world.server.state().db.pool())
        .await
        .unwrap();
    let new = generated(PasswordStyle::Words);
    let refused = world
        .teacher1
        .learner_password_reset(
            learner.id,
            &LearnerPasswordReset {
                password: new.clone(),
                source: PasswordSource::Generated,
                must_change: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::Internal));
    learner_sign_in(&world, &learner.username, &given)
        .await
        .expect("the old password still signs the learner in");
    assert_eq!(
        learner_sign_in(&world, &learner.username, &new).await.err(),
        Some(ErrorCode::InvalidCredentials)
    );
    world.stop().await;
}

async fn a_damaged_learner_id_is_an_error_never_a_made_up_learner(backend: Backend) {
    let world = World::start(backend).await;
    let class = harness::class(&world.teacher1, "1 Owls").await;
    let learner = active_learners(&world.teacher1, "1 Owls").await.remove(0);
    let pool = world.server.state().db.pool();
    sqlx::query(
        "INSERT INTO learner (id, school_id, username, given_name, family_name, search_key,
                              sort_key, version, seq, created_at, updated_at)
         SELECT 'damaged', school_id, username || '.copy', given_name, family_name,
                search_key, sort_key, version, seq, created_at, updated_at
         FROM learner WHERE id = $1",
    )
    .bind(learner.id.to_string())
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO enrollment (learner_id, class_id) VALUES ('damaged', $1)")
        .bind(class.id.to_string())
        .execute(pool)
        .await
        .unwrap();
    let err = world
        .teacher1
        .class_access_codes(class.id, CodesPurpose::View)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(ErrorCode::Internal),
        "a list with a learner under an invented id would send the teacher's next action to nobody"
    );
    world.stop().await;
}

async fn a_downloaded_code_list_is_named_after_its_class_in_any_script_and_never_cached(
    backend: Backend,
) {
    let world = World::start(backend).await;
    let download = async |class: &str| {
        let class = harness::class(&world.lead, class).await;
        let (status, headers, _) = world
            .lead
            .raw_with_headers(
                HttpMethod::POST,
                &paths::CLASS_ACCESS_CODES_EXPORT.with([&class.id]),
                None,
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(headers["cache-control"], "no-store", "a list of passwords");
        headers["content-disposition"].to_str().unwrap().to_owned()
    };
    assert_eq!(
        download("3 Badgers").await,
        "attachment; filename=\"access-codes-3-badgers.csv\"; \
         filename*=UTF-8''access-codes-3-badgers.csv"
    );
    world
        .lead
        .class_create(&NewClass {
            id: None,
            name: "Ωμέγα/../2".into(),
            year_group: None,
        })
        .await
        .unwrap();
    // The exact name for browsers that read `filename*`, a dashed ASCII one for the rest;
    // the slashes of the class name never reach either.
    assert_eq!(
        download("Ωμέγα/../2").await,
        "attachment; filename=\"access-codes-------2.csv\"; \
         filename*=UTF-8''access-codes-%CF%89%CE%BC%CE%AD%CE%B3%CE%B1-2.csv"
    );
    world.stop().await;
}

async fn an_entry_the_server_made_reads_as_the_servers_in_its_school_only(backend: Backend) {
    use classkeys_server::audit::{self, AuditActor, Device};

    let world = World::start(backend).await;
    let learner = active_learners(&world.teacher1, "1 Owls").await.remove(0);
    let school_id = world.lead.me().await.unwrap().school_id.to_string();
    let state = world.server.state();
    let mut conn = state.db.pool().acquire().await.unwrap();
    audit::record(
        &mut conn,
        AuditActor::Server {
            school_id: &school_id,
        },
        &Device(None),
        audit::Entry {
            at: state.clock.now_ms(),
            action: AuditAction::ParentCodeRotated,
            class_id: None,
            learners: &[learner.id.to_string()],
            detail: serde_json::json!({}),
        },
    )
    .await
    .unwrap();
    drop(conn);
    for reader in [&world.lead, &world.teacher1] {
        let log = reader.audit(&AuditQuery::default()).await.unwrap();
        let entry = log
            .items
            .iter()
            .find(|e| e.action == AuditAction::ParentCodeRotated)
            .expect("the server's entry, about a learner of the reader's class");
        assert_eq!(entry.actor, AuditActorKind::Server);
        assert_eq!((entry.actor_id, entry.actor_name.as_deref()), (None, None));
        assert_eq!(entry.learners[0].id, learner.id);
    }
    let elsewhere = world
        .other_lead
        .audit(&AuditQuery::default())
        .await
        .unwrap();
    assert!(
        elsewhere
            .items
            .iter()
            .all(|e| e.action != AuditAction::ParentCodeRotated),
        "another school's lead reads nothing of it"
    );
    world.stop().await;
}
