//! The desktop app end to end: a teacher at the real window, a real server on loopback
//! (the demo school: teacher1 teaches Reception Robins, 1 Owls and 3 Badgers; the lead
//! teacher sees all seven classes and 189 learners). See the crate docs of
//! `classkeys-e2e` for what these need and how `./scripts/test` runs them; they run one at
//! a time whatever `--test-threads` says.

use classkeys_domain::ids::LearnerId;
use classkeys_e2e::{Desktop, Route, eventually};
use classkeys_protocol::roster::{LearnerPatch, NewLearner};
use serde_json::json;

const TEACHER1_CLASSES: [&str; 3] = ["1 Owls", "3 Badgers", "Reception Robins"];
const ALL_CLASSES: [&str; 7] = [
    "1 Owls",
    "2 Foxes",
    "3 Badgers",
    "4B",
    "5 Kestrels",
    "6 Herons",
    "Reception Robins",
];

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

fn learner_id(id: &str) -> LearnerId {
    id.parse().expect("a row's data-id is a learner id")
}

/// Searches for `query` in the app and returns the id of the one learner found, after
/// checking that its row shows `name` ("Family, Given").
async fn find_one(desktop: &Desktop, query: &str, name: &str) -> String {
    desktop.search(query).await;
    let rows = eventually(&format!("one learner matches {query:?}"), async || {
        let rows = desktop.rows().await;
        if rows.len() == 1 { Ok(rows) } else { Err(rows) }
    })
    .await;
    assert_eq!(rows[0].name, name, "the row found by {query:?}");
    rows[0].id.clone()
}

/// Types `family_name` over the family name on the learner screen on show and saves.
async fn save_family_name(desktop: &Desktop, family_name: &str) {
    desktop.fill("learner-family-name", family_name).await;
    desktop.click("learner-save").await;
    // The screen is drawn anew after saving, so the title is looked up each time.
    eventually("the learner screen shows the saved name", async || {
        let title = desktop.text_now("learner-title").await;
        if title.ends_with(family_name) {
            Ok(())
        } else {
            Err(title)
        }
    })
    .await;
    assert!(
        !desktop.is_shown("learner-error").await,
        "saving failed: {}",
        desktop.text_now("learner-error").await
    );
}

#[tokio::test]
async fn a_teacher_signs_in_and_sees_only_their_own_classes() {
    let desktop = Desktop::start().await;
    desktop.sign_in("teacher1").await;

    assert_eq!(desktop.text("whoami").await, "Mr Hughes");
    assert_eq!(desktop.text("school-name").await, "Demo Primary");
    let classes = eventually("the sidebar lists teacher1's classes", async || {
        let names = sorted(desktop.class_names().await);
        if names == TEACHER1_CLASSES {
            Ok(names)
        } else {
            Err(names)
        }
    })
    .await;
    assert_eq!(classes, TEACHER1_CLASSES);
    assert!(
        !desktop.is_shown("class-item-whole-school").await,
        "a teacher is offered the whole school"
    );
    assert!(
        !desktop.is_shown("nav-staff").await,
        "a teacher is offered the staff screen"
    );

    // The app opens on the first class in the list, with its 27 learners.
    let first = desktop.class_names().await.remove(0);
    desktop.wait_for_text("class-title", &first).await;
    desktop.wait_for_text("class-count", "27 learners").await;

    // Signed in, with learners on screen, the webview keeps nothing of its own: the token
    // lives in the OS credential store and the data in the replica, not in web storage.
    let stored = desktop
        .js(
            "return indexedDB.databases().then((dbs) => ({
                 local: localStorage.length,
                 session: sessionStorage.length,
                 cookies: document.cookie,
                 databases: dbs.length,
             }));",
            vec![],
        )
        .await;
    assert_eq!(
        stored,
        json!({ "local": 0, "session": 0, "cookies": "", "databases": 0 }),
        "the webview stores something"
    );
}

#[tokio::test]
async fn a_lead_teacher_sees_every_class_and_the_whole_school_of_189_learners() {
    let desktop = Desktop::start().await;
    desktop.sign_in("lead").await;

    assert_eq!(desktop.text("whoami").await, "Mrs Adebayo");
    eventually("the sidebar lists all seven classes", async || {
        let names = sorted(desktop.class_names().await);
        if names == ALL_CLASSES {
            Ok(())
        } else {
            Err(names)
        }
    })
    .await;
    assert_eq!(
        desktop.text("class-item-whole-school").await,
        "Whole school"
    );
    desktop.shown("nav-staff").await;

    // One class, then back to the whole school from the sidebar.
    desktop.open_class("4B").await;
    desktop.wait_for_text("class-count", "27 learners").await;
    desktop.screenshot("class-view-lead").await;

    desktop.click("class-item-whole-school").await;
    desktop.wait_for_text("class-title", "Whole school").await;
    desktop.wait_for_text("class-count", "189 learners").await;
    // The virtualised table knows every row, not only those drawn: 189 and the header.
    eventually("the whole-school table counts 189 learners", async || {
        let rows = desktop
            .js(
                r#"return document.querySelector('[data-testid="learner-table"]')?.getAttribute('aria-rowcount');"#,
                vec![],
            )
            .await;
        if rows == json!("190") { Ok(()) } else { Err(rows) }
    })
    .await;
    assert!(!desktop.rows().await.is_empty(), "no learner rows drawn");
    desktop.screenshot("whole-school").await;
}

#[tokio::test]
async fn typing_lukasz_without_the_accent_finds_lukasz() {
    let desktop = Desktop::start().await;
    desktop.sign_in("teacher1").await;

    find_one(&desktop, "lukasz", "Kowalski, Łukasz").await;
    desktop
        .wait_for_text("search-summary", "1 learner matching “lukasz”")
        .await;
    desktop.screenshot("search").await;
}

#[tokio::test]
async fn a_family_name_saved_in_the_app_is_on_the_server() {
    let desktop = Desktop::start().await;
    let api = desktop.api("teacher1").await;
    desktop.sign_in("teacher1").await;

    let id = find_one(&desktop, "lukasz", "Kowalski, Łukasz").await;
    let before = api.learner(learner_id(&id)).await.expect("the learner");
    desktop.open_learner(&id).await;
    desktop
        .wait_for_text("learner-title", "Łukasz Kowalski")
        .await;
    save_family_name(&desktop, "Kowalski-Wiśniewski").await;
    desktop.screenshot("learner").await;

    let after = eventually("the server has the new family name", async || {
        let now = api
            .learner(learner_id(&id))
            .await
            .map_err(|e| e.to_string())?;
        if now.family_name == "Kowalski-Wiśniewski" {
            Ok(now)
        } else {
            Err(now.family_name)
        }
    })
    .await;
    assert_eq!(after.given_name, "Łukasz");
    assert_eq!(after.version, before.version + 1);
    desktop
        .wait_for_status("online with nothing waiting", |s| {
            s.connection == "online" && s.waiting == 0
        })
        .await;
}

#[tokio::test]
async fn an_edit_made_while_the_server_is_down_arrives_exactly_once_when_it_is_back() {
    let mut desktop = Desktop::start().await;
    let api = desktop.api("lead").await;
    desktop.sign_in("teacher1").await;
    let id = find_one(&desktop, "lukasz", "Kowalski, Łukasz").await;
    desktop.open_learner(&id).await;
    desktop
        .wait_for_status("online", |s| s.connection == "online")
        .await;
    let before = api.learner(learner_id(&id)).await.expect("the learner");

    // A real outage: the server stops, so its port refuses connections.
    desktop.server_mut().pause().await;
    save_family_name(&desktop, "Nowak").await;
    let offline = desktop
        .wait_for_status("offline with one change waiting", |s| {
            s.connection == "offline" && s.waiting == 1
        })
        .await;
    assert_eq!(offline.text, "Offline · 1 change waiting");

    // The same server, address and database again; nobody clicks anything.
    desktop.server_mut().resume().await;
    let online = desktop
        .wait_for_status("online with nothing waiting", |s| {
            s.connection == "online" && s.waiting == 0
        })
        .await;
    assert_eq!((online.conflicts, online.rejected), (0, 0), "{online:?}");
    assert_eq!(online.text, "Online · up to date");

    let after = api.learner(learner_id(&id)).await.expect("the learner");
    assert_eq!(after.family_name, "Nowak");
    assert_eq!(after.version, before.version + 1, "the change applied once");

    // Another sync sends nothing again.
    desktop.click("sync-now").await;
    desktop
        .wait_for_status("online with nothing waiting", |s| {
            s.connection == "online" && s.waiting == 0
        })
        .await;
    let again = api.learner(learner_id(&id)).await.expect("the learner");
    assert_eq!(
        again.version, after.version,
        "the change applied a second time"
    );
}

#[tokio::test]
async fn an_edit_confirmed_on_screen_survives_the_app_being_killed_and_arrives_once() {
    let mut desktop = Desktop::start().await;
    let api = desktop.api("lead").await;
    desktop.sign_in("teacher1").await;
    let id = find_one(&desktop, "lukasz", "Kowalski, Łukasz").await;
    desktop.open_learner(&id).await;
    desktop
        .wait_for_status("online", |s| s.connection == "online")
        .await;
    let before = api.learner(learner_id(&id)).await.expect("the learner");

    // Offline, the edit only exists on this computer; the screen says it is kept.
    desktop.server_mut().pause().await;
    save_family_name(&desktop, "Nowak").await;
    desktop.wait_for_text("learner-title", "Łukasz Nowak").await;
    let waiting = desktop
        .wait_for_status("offline with one change waiting", |s| {
            s.connection == "offline" && s.waiting == 1
        })
        .await;
    assert_eq!(waiting.text, "Offline · 1 change waiting");

    // The app dies without warning and is started again, the server still down.
    desktop.restart_app_killed().await;
    assert!(
        !desktop.is_shown("view-sign-in").await,
        "the restarted app asks to sign in again: {:?}",
        desktop.text_now("sign-in-error").await
    );
    assert_eq!(desktop.text("whoami").await, "Mr Hughes");
    let waiting = desktop
        .wait_for_status("offline with one change waiting", |s| {
            s.connection == "offline" && s.waiting == 1
        })
        .await;
    assert_eq!(waiting.text, "Offline · 1 change waiting");
    find_one(&desktop, "lukasz", "Nowak, Łukasz").await;
    desktop.open_learner(&id).await;
    desktop.wait_for_text("learner-title", "Łukasz Nowak").await;

    desktop.server_mut().resume().await;
    let online = desktop
        .wait_for_status("online with nothing waiting", |s| {
            s.connection == "online" && s.waiting == 0
        })
        .await;
    assert_eq!((online.conflicts, online.rejected), (0, 0), "{online:?}");
    assert_eq!(online.text, "Online · up to date");
    let after = api.learner(learner_id(&id)).await.expect("the learner");
    assert_eq!(after.family_name, "Nowak");
    assert_eq!(after.given_name, "Łukasz");
    assert_eq!(after.version, before.version + 1, "the change applied once");

    // Another sync sends nothing again.
    desktop.click("sync-now").await;
    desktop
        .wait_for_status("online with nothing waiting", |s| {
            s.connection == "online" && s.waiting == 0
        })
        .await;
    let again = api.learner(learner_id(&id)).await.expect("the learner");
    assert_eq!(
        again.version, after.version,
        "the change applied a second time"
    );
}

#[tokio::test]
async fn a_conflicting_edit_shows_both_versions_and_each_choice_does_what_it_says() {
    let mut desktop = Desktop::start_with(Route::ThroughLink).await;
    let lead = desktop.api("lead").await;
    desktop.sign_in("teacher1").await;
    let lukasz = find_one(&desktop, "lukasz", "Kowalski, Łukasz").await;
    let zoe = find_one(&desktop, "zoe", "Adams, Zoë").await;
    desktop
        .wait_for_status("online", |s| s.connection == "online")
        .await;

    // The school's network goes down for this computer only; the app keeps both edits.
    desktop.link_mut().cut().await;
    desktop.search("lukasz").await;
    desktop.open_learner(&lukasz).await;
    save_family_name(&desktop, "Mine-Kowalski").await;
    desktop.search("zoe").await;
    desktop.open_learner(&zoe).await;
    save_family_name(&desktop, "Mine-Adams").await;
    desktop
        .wait_for_status("offline with two changes waiting", |s| {
            s.connection == "offline" && s.waiting == 2
        })
        .await;

    // Meanwhile the lead teacher changes both on the server.
    let mut theirs = Vec::new();
    for (id, family_name) in [(&lukasz, "Theirs-Kowalski"), (&zoe, "Theirs-Adams")] {
        let current = lead.learner(learner_id(id)).await.expect("the learner");
        let changed = lead
            .learner_update(
                learner_id(id),
                &LearnerPatch {
                    family_name: Some(family_name.into()),
                    base_version: Some(current.version),
                    ..LearnerPatch::default()
                },
            )
            .await
            .expect("the lead teacher's change");
        theirs.push(changed);
    }
    let (lukasz_theirs, zoe_theirs) = (&theirs[0], &theirs[1]);

    desktop.link_mut().restore().await;
    desktop
        .wait_for_status("two conflicts to resolve", |s| {
            s.connection == "online" && s.conflicts == 2 && s.waiting == 0
        })
        .await;
    desktop.click("sync-status").await;
    desktop.shown("view-changes").await;
    let conflicts = eventually("the changes screen lists both conflicts", async || {
        let items = desktop
            .js(
                r#"return [...document.querySelectorAll('[data-testid="conflict-item"]')].map((item) => ({
                       op: item.dataset.opId,
                       mine: item.querySelector('[data-testid="conflict-mine"]').textContent,
                       theirs: item.querySelector('[data-testid="conflict-theirs"]').textContent,
                   }));"#,
                vec![],
            )
            .await;
        match items.as_array() {
            Some(list) if list.len() == 2 => Ok(list.clone()),
            _ => Err(items),
        }
    })
    .await;
    let conflict_of = |given_name: &str| {
        conflicts
            .iter()
            .find(|c| {
                c["theirs"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(given_name)
            })
            .unwrap_or_else(|| panic!("a conflict about {given_name}: {conflicts:?}"))
            .clone()
    };
    let (on_lukasz, on_zoe) = (conflict_of("Łukasz"), conflict_of("Zoë"));
    for (conflict, mine, server) in [
        (&on_lukasz, "Mine-Kowalski", "Theirs-Kowalski"),
        (&on_zoe, "Mine-Adams", "Theirs-Adams"),
    ] {
        let shown_mine = conflict["mine"].as_str().unwrap_or_default();
        let shown_theirs = conflict["theirs"].as_str().unwrap_or_default();
        // Only the family name changed: the description says so and nothing else.
        assert!(
            shown_mine.starts_with("Change ")
                && shown_mine.contains(&format!("'s family name to {mine} (")),
            "my change is described as {shown_mine:?}"
        );
        assert!(shown_theirs.contains(server), "{shown_theirs}");
    }
    let screen = desktop.text("view-changes").await;
    assert!(
        !screen.contains("null") && !screen.contains("undefined"),
        "the changes screen shows a programming value: {screen:?}"
    );
    desktop.screenshot("conflict").await;

    let button = |conflict: &serde_json::Value, testid: &str| {
        format!(
            r#"[data-testid="conflict-item"][data-op-id="{}"] [data-testid="{testid}"]"#,
            conflict["op"].as_str().unwrap_or_default()
        )
    };
    desktop
        .click_css(&button(&on_lukasz, "conflict-keep-mine"))
        .await;
    eventually("my family name for Łukasz is on the server", async || {
        let now = lead
            .learner(learner_id(&lukasz))
            .await
            .map_err(|e| e.to_string())?;
        if now.family_name == "Mine-Kowalski" {
            Ok(now)
        } else {
            Err(now.family_name)
        }
    })
    .await;
    desktop
        .click_css(&button(&on_zoe, "conflict-take-theirs"))
        .await;
    desktop
        .wait_for_status("online with nothing left", |s| {
            s.connection == "online" && s.waiting == 0 && s.conflicts == 0 && s.rejected == 0
        })
        .await;
    eventually("the changes screen lists no conflict", async || {
        let left = desktop
            .js(
                r#"return document.querySelectorAll('[data-testid="conflict-item"]').length;"#,
                vec![],
            )
            .await;
        if left == json!(0) { Ok(()) } else { Err(left) }
    })
    .await;

    let lukasz_now = lead.learner(learner_id(&lukasz)).await.expect("Łukasz");
    assert_eq!(lukasz_now.family_name, "Mine-Kowalski");
    assert_eq!(lukasz_now.version, lukasz_theirs.version + 1);
    let zoe_now = lead.learner(learner_id(&zoe)).await.expect("Zoë");
    assert_eq!(zoe_now.family_name, "Theirs-Adams");
    assert_eq!(
        zoe_now.version, zoe_theirs.version,
        "the server's version was kept"
    );
    // And this computer now shows the server's version of Zoë.
    find_one(&desktop, "zoe", "Theirs-Adams, Zoë").await;
}

#[tokio::test]
async fn a_learner_named_like_html_shows_as_that_text_and_runs_nothing() {
    const HOSTILE: &str = "<img src=x onerror=alert(1)>";
    let desktop = Desktop::start().await;
    let lead = desktop.api("lead").await;
    let robins = lead
        .classes()
        .await
        .expect("classes")
        .into_iter()
        .find(|c| c.name == "Reception Robins")
        .expect("Reception Robins");
    let learner = lead
        .learner_create(&NewLearner {
            id: None,
            given_name: HOSTILE.into(),
            family_name: "Tester".into(),
            username: None,
            email: None,
            classes: vec![robins.id],
        })
        .await
        .expect("the lead teacher adds the learner");
    let id = learner.id.to_string();

    desktop.sign_in("teacher1").await;
    desktop.open_class("Reception Robins").await;
    desktop.wait_for_text("class-count", "28 learners").await;
    let row = desktop.row(&id).await;
    assert_eq!(row.name, format!("Tester, {HOSTILE}"));

    desktop.open_learner(&id).await;
    desktop
        .wait_for_text("learner-title", &format!("{HOSTILE} Tester"))
        .await;
    let given = desktop
        .js(
            r#"return document.querySelector('[data-testid="learner-given-name"]').value;"#,
            vec![],
        )
        .await;
    assert_eq!(given, json!(HOSTILE), "the given-name field");

    let images = desktop
        .js(
            r#"return document.querySelectorAll('img[src="x"]').length;"#,
            vec![],
        )
        .await;
    assert_eq!(images, json!(0), "the name became an element");
    assert_eq!(desktop.open_alert().await, None, "an alert opened");
}

#[tokio::test]
async fn a_lead_assigns_a_teacher_and_adds_a_learner_and_both_reach_the_server() {
    let desktop = Desktop::start().await;
    let teacher1 = desktop.api("teacher1").await;
    let lead = desktop.api("lead").await;
    desktop.sign_in("lead").await;

    // Mr Hughes (teacher1) does not teach 2 Foxes yet.
    let teaches_foxes = async || {
        teacher1
            .classes()
            .await
            .expect("teacher1's classes")
            .iter()
            .any(|c| c.name == "2 Foxes")
    };
    assert!(!teaches_foxes().await);

    desktop.click("nav-staff").await;
    desktop.shown("view-staff").await;
    let row = r#"[data-testid="staff-class-row"][data-class-name="2 Foxes"]"#;
    // Choose teacher1 in the row's list of teachers, by the text the lead reads.
    let picked = desktop
        .js(
            &format!(
                r#"const select = document.querySelector('{row} [data-testid="assign-teacher-select"]');
                   const option = [...select.options].find((o) => o.text.endsWith('(teacher1)'));
                   select.value = option.value;
                   return option.text;"#
            ),
            vec![],
        )
        .await;
    assert_eq!(picked, json!("Mr Hughes (teacher1)"));
    desktop
        .click_css(&format!(r#"{row} [data-testid="assign-teacher"]"#))
        .await;
    desktop
        .find_css(&format!(
            r#"{row} [data-testid="assigned-teacher"][data-username="teacher1"]"#
        ))
        .await;
    desktop.screenshot("staff").await;
    eventually("teacher1 teaches 2 Foxes on the server", async || {
        if teaches_foxes().await {
            Ok(())
        } else {
            Err("not yet")
        }
    })
    .await;

    desktop.open_class("2 Foxes").await;
    desktop.click("learner-add").await;
    desktop.fill("new-learner-given-name", "Ada").await;
    desktop.fill("new-learner-family-name", "Lovelace").await;
    desktop.click("new-learner-save").await;
    eventually("the new learner is in the class's table", async || {
        let rows = desktop.rows().await;
        if rows.iter().any(|r| r.name == "Lovelace, Ada") {
            Ok(())
        } else {
            Err(rows.len())
        }
    })
    .await;
    let found = eventually("the new learner is on the server", async || {
        let page = lead
            .learners(&classkeys_protocol::roster::LearnerQuery {
                q: Some("lovelace".into()),
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        match page.items.as_slice() {
            [one] => Ok(one.clone()),
            other => Err(format!("{} found", other.len())),
        }
    })
    .await;
    assert_eq!(found.username, "ada.lovelace");
    let foxes = lead
        .classes()
        .await
        .expect("classes")
        .into_iter()
        .find(|c| c.name == "2 Foxes")
        .expect("2 Foxes");
    assert_eq!(found.classes, vec![foxes.id]);
}

#[tokio::test]
async fn the_window_may_call_only_the_apps_own_commands() {
    let desktop = Desktop::start().await;
    let outcome = async |command: &str| {
        desktop
            .js(
                "return window.__TAURI__.core.invoke(arguments[0])
                     .then(() => 'allowed', (e) => 'refused: ' + String(e));",
                vec![json!(command)],
            )
            .await
    };
    assert_eq!(outcome("app_info").await, json!("allowed"));
    for command in [
        "plugin:app|version",
        "plugin:window|close",
        "plugin:webview|print",
        "plugin:event|emit",
        "no_such_command",
    ] {
        let answer = outcome(command).await;
        assert!(
            answer.as_str().is_some_and(|a| a.starts_with("refused")),
            "{command}: {answer}"
        );
    }
    // Still there and working after all that.
    desktop.shown("view-sign-in").await;
}

/// The codes table on show: username → the password shown (if revealed).
async fn codes_on_screen(desktop: &Desktop) -> Vec<(String, Option<String>, String)> {
    let rows = desktop
        .js(
            "return [...document.querySelectorAll('[data-testid=code-row]')].map(r => [
                r.dataset.username,
                r.querySelector('[data-testid=code-password]')?.textContent ?? null,
                r.querySelector('[data-testid=code-parent]').firstChild.textContent])",
            vec![],
        )
        .await;
    serde_json::from_value(rows).expect("rows of [username, password, parent code]")
}

/// Waits until `name` is in the downloads folder and returns its CSV rows (BOM stripped).
async fn downloaded_csv(desktop: &Desktop, name: &str) -> Vec<Vec<String>> {
    let path = desktop.downloads().join(name);
    let bytes = eventually(&format!("{name} is saved"), async || {
        std::fs::read(&path).map_err(|e| e.to_string())
    })
    .await;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("a UTF-8 BOM");
    csv::ReaderBuilder::new()
        .from_reader(body)
        .records()
        .map(|r| r.expect("a row").iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn a_teacher_resets_a_learner_then_a_class_and_downloads_the_codes_on_screen() {
    let desktop = Desktop::start().await;
    desktop.sign_in("teacher1").await;
    desktop.open_class("1 Owls").await;
    let first = eventually("the class lists its learners", async || {
        let rows = desktop.rows().await;
        if rows.is_empty() { Err(rows) } else { Ok(rows) }
    })
    .await
    .remove(0);

    // One learner: generate, regenerate, apply.
    desktop.open_learner(&first.id).await;
    desktop.click("password-generate").await;
    let preview = desktop.wait_for_nonempty("password-candidate").await;
    desktop.click("password-generate").await;
    let regenerated = eventually("a new password is previewed", async || {
        let now = desktop.text_now("password-candidate").await;
        if now != preview && !now.is_empty() {
            Ok(now)
        } else {
            Err(now)
        }
    })
    .await;
    desktop.click("password-apply").await;
    desktop.wait_for_text("password-shown", &regenerated).await;
    assert!(
        desktop
            .server()
            .learner_signs_in(&first.username, &regenerated)
            .await
    );

    // The whole class, a new password each: preview, apply, reveal, download.
    desktop.open_class("1 Owls").await;
    desktop.click("class-tab-codes").await;
    desktop.shown("codes-table").await;
    assert_eq!(
        desktop.text("school-export-lead-only").await,
        "Only lead teachers can export the whole school."
    );
    assert!(!desktop.is_shown("school-export").await);
    desktop.click("class-reset-open").await;
    desktop.shown("reset-preview").await;
    let previewed: Vec<(String, String)> = serde_json::from_value(
        desktop
            .js(
                "return [...document.querySelectorAll('[data-testid=reset-preview-row]')]
                    .map(r => [r.dataset.username, r.cells[2].textContent])",
                vec![],
            )
            .await,
    )
    .expect("preview rows");
    assert!(previewed.len() > 20, "{previewed:?}");
    desktop.screenshot("class-reset").await;
    desktop.click("reset-apply").await;
    eventually("the reset is applied and the dialog closes", async || {
        if desktop.is_shown("class-reset").await {
            Err("still open")
        } else {
            Ok(())
        }
    })
    .await;
    desktop.shown("codes-table").await;
    desktop.click("codes-reveal-all").await;
    let shown = eventually("every password is revealed", async || {
        let rows = codes_on_screen(&desktop).await;
        if rows.iter().all(|(_, p, _)| p.is_some()) {
            Ok(rows)
        } else {
            Err(rows)
        }
    })
    .await;
    desktop.screenshot("access-codes").await;
    for (username, password) in &previewed {
        let on_screen = shown.iter().find(|(u, _, _)| u == username).expect("a row");
        assert_eq!(
            on_screen.1.as_deref(),
            Some(password.as_str()),
            "{username}"
        );
    }
    desktop.click("codes-download").await;
    let csv = downloaded_csv(&desktop, "access-codes-1-owls.csv").await;
    assert_eq!(csv.len(), shown.len());
    for row in &csv {
        let (_, password, parent) = shown
            .iter()
            .find(|(u, _, _)| *u == row[3])
            .expect("on screen");
        assert_eq!(Some(&row[4]), password.as_ref(), "{}", row[3]);
        assert_eq!(&row[5], parent);
        assert_eq!(row[0], "1 Owls");
    }
    let (username, password, _) = &shown[0];
    assert!(
        desktop
            .server()
            .learner_signs_in(username, password.as_deref().unwrap())
            .await
    );
}

#[tokio::test]
async fn a_lead_teacher_exports_the_whole_school_after_entering_their_password_again() {
    let desktop = Desktop::start().await;
    desktop.sign_in("lead").await;
    desktop.shown("view-class").await;
    desktop.click("school-export-open").await;
    desktop
        .fill("school-export-password", "not-my-password")
        .await;
    desktop.click("school-export-submit").await;
    let error = desktop.wait_for_nonempty("school-export-error").await;
    assert!(error.contains("not your password"), "{error}");
    desktop
        .fill("school-export-password", classkeys_e2e::DEMO_PASSWORD)
        .await;
    desktop.click("school-export-submit").await;
    let csv = downloaded_csv(&desktop, "demo-primary-access-codes.csv").await;
    // Every active learner of the demo school (one is deactivated).
    assert_eq!(csv.len(), 188);
    assert!(
        csv.iter()
            .any(|r| r[0] == "3 Badgers" && !r[4].starts_with('('))
    );
}

/// The learner screen's password card, as the teacher reads it.
async fn password_card(desktop: &Desktop, class: &str, id: &str) -> (String, String) {
    desktop.open_class(class).await;
    desktop.open_learner(id).await;
    let state = desktop.wait_for_nonempty("password-state").await;
    (state, desktop.text("learner-password").await)
}

#[tokio::test]
async fn the_password_card_says_what_the_password_is_in_every_state_and_nothing_else() {
    let mut desktop = Desktop::start_with(Route::ThroughLink).await;
    desktop.sign_in("teacher1").await;
    desktop.open_class("1 Owls").await;
    let first = eventually("the class lists its learners", async || {
        let rows = desktop.rows().await;
        if rows.is_empty() { Err(rows) } else { Ok(rows) }
    })
    .await
    .remove(0);

    // None yet.
    let (state, card) = password_card(&desktop, "1 Owls", &first.id).await;
    assert_eq!(state, "No password yet.");
    assert!(
        !card.contains("null") && !card.contains("undefined"),
        "{card}"
    );
    assert!(!desktop.is_shown("password-reveal").await);

    // Set by a teacher, to be changed at the next sign-in.
    let api = desktop.api("teacher1").await;
    api.learner_password_reset(
        learner_id(&first.id),
        &classkeys_protocol::credentials::LearnerPasswordReset {
            password: "Given-By-Teacher-41".into(),
            source: classkeys_protocol::credentials::PasswordSource::Typed,
            must_change: true,
        },
    )
    .await
    .unwrap();
    let (state, card) = password_card(&desktop, "1 Owls", &first.id).await;
    assert_eq!(
        state,
        "Set by a teacher: it can be shown. The learner must choose a new one at next sign-in."
    );
    assert!(!card.contains("null"), "{card}");
    desktop.click("password-reveal").await;
    desktop
        .wait_for_text("password-shown", "Given-By-Teacher-41")
        .await;

    // Set by the learner: it cannot be shown.
    let learner = classkeys_client::Client::new(&desktop.server().url).unwrap();
    let session = learner
        .learner_sign_in(&classkeys_protocol::credentials::LearnerSignInRequest {
            school: "demo".into(),
            username: first.username.clone(),
            password: "Given-By-Teacher-41".into(),
            device_token: None,
        })
        .await
        .unwrap();
    learner
        .with_token(session.token)
        .learner_password_change(&classkeys_protocol::credentials::LearnerPasswordChange {
            current_password: "Given-By-Teacher-41".into(),
            new_password: "my-own-secret-path-7".into(),
        })
        .await
        .unwrap();
    let (state, card) = password_card(&desktop, "1 Owls", &first.id).await;
    assert_eq!(
        state,
        "Set by the learner — it cannot be shown; reset it instead."
    );
    assert!(!card.contains("null"), "{card}");
    assert!(!desktop.is_shown("password-reveal").await);
    assert!(!card.contains("my-own-secret-path-7"));

    // Offline: what this computer knows, said as such, and nothing that needs the server.
    // First, this computer's copy catches up with the learner's change (the background
    // sync runs every second here).
    eventually(
        "this computer knows the learner chose their password",
        async || {
            let state = desktop
            .js(
                "return window.__TAURI__.core.invoke('learner_get', { learner_id: arguments[0] })
                   .then((l) => l.password);",
                vec![json!(first.id)],
            )
            .await;
            if state == "set_by_learner" {
                Ok(())
            } else {
                Err(state)
            }
        },
    )
    .await;
    desktop.link_mut().cut().await;
    let (state, card) = password_card(&desktop, "1 Owls", &first.id).await;
    assert_eq!(
        state,
        "Set by the learner — it cannot be shown; reset it instead."
    );
    assert!(
        desktop
            .text("password-offline")
            .await
            .starts_with("The server cannot be reached"),
        "{card}"
    );
    assert!(
        !card.contains("null") && !card.contains("undefined"),
        "{card}"
    );
    for needs_server in ["password-reveal", "password-generate", "parent-code-rotate"] {
        assert!(
            !desktop.is_shown(needs_server).await,
            "{needs_server} offline"
        );
    }
}

/// The severity and sentence of the finding of `check` on the "why" screen, once shown.
async fn finding(desktop: &Desktop, check: &str) -> (String, String) {
    let found = eventually(&format!("the {check} finding is shown"), async || {
        let found = desktop
            .js(
                r#"const f = document.querySelector(`[data-testid="finding"][data-check="${arguments[0]}"]`);
                   return f ? [f.dataset.severity, f.querySelector('[data-testid="finding-says"]').textContent] : null;"#,
                vec![json!(check)],
            )
            .await;
        if found.is_null() { Err(found) } else { Ok(found) }
    })
    .await;
    (
        found[0].as_str().unwrap_or_default().to_owned(),
        found[1].as_str().unwrap_or_default().to_owned(),
    )
}

/// Waits until the finding of `check` has `severity` (the screen checks again after a fix).
async fn finding_becomes(desktop: &Desktop, check: &str, severity: &str) -> String {
    eventually(&format!("the {check} finding is {severity}"), async || {
        let (now, says) = finding(desktop, check).await;
        if now == severity {
            Ok(says)
        } else {
            Err((now, says))
        }
    })
    .await
}

/// Opens "Why can't they sign in?" for the one learner `username` finds.
async fn open_why(desktop: &Desktop, username: &str, name: &str) {
    let id = find_one(desktop, username, name).await;
    desktop.open_learner(&id).await;
    desktop.click("learner-why").await;
    desktop.shown("why-summary").await;
}

/// A password for `learner`, set by teacher1 through the API.
async fn give_password(api: &classkeys_client::Client, learner: LearnerId, password: &str) {
    api.learner_password_reset(
        learner,
        &classkeys_protocol::credentials::LearnerPasswordReset {
            password: password.into(),
            source: classkeys_protocol::credentials::PasswordSource::Typed,
            must_change: false,
        },
    )
    .await
    .unwrap();
}

/// Uses the password link in `mail` to choose `password`.
async fn choose_with_link(desktop: &Desktop, mail: &classkeys_testsupport::Mail, password: &str) {
    let state = desktop.server().state();
    let school = classkeys_server::login_help::School::by_slug(state, "demo")
        .await
        .unwrap()
        .unwrap();
    let link = mail.links(&format!("{}/s/demo/reset/", state.settings.public_url))[0].clone();
    classkeys_server::login_help::reset_with_link(
        state,
        &school,
        link.rsplit('/').next().unwrap(),
        password.to_owned().into(),
        &classkeys_server::audit::Device(None),
    )
    .await
    .unwrap()
    .expect("the newest link sets the password");
}

/// The id of teacher1's class 1 Owls.
async fn owls(api: &classkeys_client::Client) -> classkeys_domain::ids::ClassId {
    api.classes()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "1 Owls")
        .expect("1 Owls")
        .id
}

/// A learner added to 1 Owls through the API.
async fn add_to_owls(
    api: &classkeys_client::Client,
    (given, family): (&str, &str),
    username: &str,
    email: Option<&str>,
) -> classkeys_protocol::roster::LearnerRecord {
    api.learner_create(&NewLearner {
        id: None,
        given_name: given.into(),
        family_name: family.into(),
        username: Some(username.into()),
        email: email.map(Into::into),
        classes: vec![owls(api).await],
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn why_names_each_reason_a_learner_cannot_sign_in_and_its_fix_lets_them_in() {
    let desktop = Desktop::start().await;
    desktop.sign_in("teacher1").await;
    let api = desktop.api("teacher1").await;
    let add = async |given: &str, family: &str, username: &str, email: Option<&str>| {
        add_to_owls(&api, (given, family), username, email).await
    };

    // (a) Deactivated: the fix is to reactivate.
    let ada = add("Ada", "Quill", "ada.quill", None).await;
    give_password(&api, ada.id, "Harbour-Violet-Kite-31").await;
    api.learner_set_active(ada.id, false, None).await.unwrap();
    assert!(
        !desktop
            .server()
            .learner_signs_in("ada.quill", "Harbour-Violet-Kite-31")
            .await
    );
    open_why(&desktop, "ada.quill", "Quill, Ada").await;
    let (severity, says) = finding(&desktop, "account").await;
    assert_eq!(severity, "problem");
    assert!(says.contains("deactivated by Mr Hughes"), "{says}");
    desktop
        .click_css(r#"[data-check="account"] [data-testid="fix-reactivate"]"#)
        .await;
    finding_becomes(&desktop, "account", "fine").await;
    assert!(
        desktop
            .server()
            .learner_signs_in("ada.quill", "Harbour-Violet-Kite-31")
            .await
    );

    // (b) Locked after wrong passwords: the fix is to unlock; never a typed password shown.
    let ben = add("Ben", "Quill", "ben.quill", None).await;
    give_password(&api, ben.id, "Meadow-Lantern-Fox-62").await;
    for n in 0..7 {
        desktop
            .server()
            .learner_signs_in("ben.quill", &format!("Typed-Wrong-{n}z"))
            .await;
    }
    assert!(
        !desktop
            .server()
            .learner_signs_in("ben.quill", "Meadow-Lantern-Fox-62")
            .await
    );
    open_why(&desktop, "ben.quill", "Quill, Ben").await;
    let (severity, says) = finding(&desktop, "lock").await;
    assert_eq!(severity, "problem");
    assert!(
        says.contains("6 wrong passwords") && says.contains("even with the right password"),
        "the seventh came while waiting, and was not counted: {says}"
    );
    let screen = desktop.text("view-why").await;
    assert!(
        !screen.contains("Typed-Wrong"),
        "no typed password on screen"
    );
    desktop
        .click_css(r#"[data-check="lock"] [data-testid="fix-unlock"]"#)
        .await;
    finding_becomes(&desktop, "lock", "fine").await;
    assert!(
        desktop
            .server()
            .learner_signs_in("ben.quill", "Meadow-Lantern-Fox-62")
            .await
    );

    // (c) Their address is held by a deactivated duplicate: the fix moves it here; then a
    // password link reaches them.
    let old = add("Cleo", "Quill", "cleo.quill", Some("cleo@home.example")).await;
    api.learner_set_active(old.id, false, None).await.unwrap();
    add("Cleo", "Quill", "cleo.quill2", None).await;
    open_why(&desktop, "cleo.quill2", "Quill, Cleo").await;
    let (severity, says) = finding(&desktop, "duplicates").await;
    assert_eq!(severity, "problem");
    assert!(says.contains("cleo@home.example"), "{says}");
    desktop.screenshot("app-why").await;
    desktop
        .click_css(r#"[data-check="duplicates"] [data-testid="fix-move-email"]"#)
        .await;
    desktop.click("fix-move-email-confirm").await;
    let says = eventually("the address is this account's now", async || {
        let (_, says) = finding(&desktop, "email").await;
        if says.contains("Mail goes to cleo@home.example") {
            Ok(says)
        } else {
            Err(says)
        }
    })
    .await;
    assert!(says.contains("cleo@home.example"));
    desktop
        .click_css(r#"[data-check="password"] [data-testid="fix-send-reset-link"]"#)
        .await;
    let mail = desktop.server().mail_in_outbox(1).await.remove(0);
    assert_eq!(mail.to, ["cleo@home.example"]);
    choose_with_link(&desktop, &mail, "Orchard-Pebble-Wren-85").await;
    assert!(
        desktop
            .server()
            .learner_signs_in("cleo.quill2", "Orchard-Pebble-Wren-85")
            .await
    );

    // (d) An older password link was used: only the newest works; the fix sends a new one.
    let dan = add("Dan", "Quill", "dan.quill", Some("dan@home.example")).await;
    give_password(&api, dan.id, "Canyon-Maple-Otter-14").await;
    api.learner_reset_link(dan.id).await.unwrap();
    desktop
        .server()
        .advance_clock(std::time::Duration::from_secs(60));
    api.learner_reset_link(dan.id).await.unwrap();
    let mails = desktop.server().mail_in_outbox(3).await;
    let older = mails
        .iter()
        .find(|m| m.to == ["dan@home.example"])
        .expect("the first link to Dan")
        .links(&format!("{}/s/demo/reset/", desktop.server().url))[0]
        .clone();
    let page = reqwest::get(&older).await.unwrap().text().await.unwrap();
    assert!(
        page.contains("newer"),
        "the older link's page says a newer one was sent"
    );
    open_why(&desktop, "dan.quill", "Quill, Dan").await;
    let (severity, says) = finding(&desktop, "reset_link").await;
    assert_eq!(severity, "problem");
    assert!(says.contains("An older link was opened"), "{says}");
    desktop
        .click_css(r#"[data-check="reset_link"] [data-testid="fix-send-reset-link"]"#)
        .await;
    let mails = desktop.server().mail_in_outbox(4).await;
    // The outbox lists messages oldest first.
    let newest = mails
        .iter()
        .rfind(|m| m.to == ["dan@home.example"])
        .unwrap();
    choose_with_link(&desktop, newest, "Summit-Thistle-Hare-27").await;
    assert!(
        desktop
            .server()
            .learner_signs_in("dan.quill", "Summit-Thistle-Hare-27")
            .await
    );
}

#[tokio::test]
async fn a_teacher_sends_a_class_sign_in_links_from_the_app_and_each_learner_gets_their_own() {
    let smtp = classkeys_testsupport::SmtpServer::start(Default::default()).await;
    let desktop = Desktop::start_with_settings(Route::Direct, smtp.settings()).await;
    desktop.sign_in("teacher1").await;
    let api = desktop.api("teacher1").await;
    let learners = api
        .learners(&classkeys_protocol::roster::LearnerQuery {
            class_id: Some(owls(&api).await),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    let (with, without): (Vec<_>, Vec<_>) = learners
        .into_iter()
        .filter(|l| l.active)
        .partition(|l| l.email.is_some());
    assert!(!with.is_empty() && !without.is_empty());

    desktop.open_class("1 Owls").await;
    desktop.click("class-message").await;
    desktop.shown("message-recipients").await;
    let not_reached = desktop.text("message-not-reached").await;
    for learner in &without {
        assert!(
            not_reached.contains(&format!("({}): no email address", learner.username)),
            "{} is listed as not reached: {not_reached}",
            learner.username
        );
    }
    let preview = desktop.text("message-preview").await;
    assert!(
        preview.contains("/s/demo/link/") && !preview.contains("[loginLink]"),
        "the preview shows where the learner's own link goes: {preview}"
    );
    desktop.click("message-cc-me").await;
    desktop.screenshot("app-message").await;
    desktop.click("message-send").await;
    desktop
        .wait_for_text("message-delivery-summary", "Every copy has left.")
        .await;

    let mails = smtp.wait_for(with.len() + 1).await;
    assert_eq!(
        mails.len(),
        with.len() + 1,
        "one for each learner reached, and mine"
    );
    let copy = mails
        .iter()
        .find(|m| m.to == ["teacher1@staff.demo-primary.example"])
        .expect("the teacher's copy");
    assert!(copy.body.contains("[loginLink]"), "my copy keeps the tag");
    let state = desktop.server().state();
    let school = classkeys_server::login_help::School::by_slug(state, "demo")
        .await
        .unwrap()
        .unwrap();
    let mut tokens = std::collections::BTreeSet::new();
    for learner in &with {
        let mail = mails
            .iter()
            .find(|m| m.to.as_slice() == [learner.email.clone().unwrap()])
            .unwrap_or_else(|| panic!("a message to {}", learner.username));
        let links = mail.links(&format!("{}/s/demo/link/", state.settings.public_url));
        assert_eq!(links.len(), 1, "{}", mail.body);
        let token = links[0].rsplit('/').next().unwrap().to_owned();
        assert!(
            tokens.insert(token.clone()),
            "each link is the learner's own"
        );
        let (session, _) = classkeys_server::login_help::sign_in_with_link(state, &school, &token)
            .await
            .unwrap()
            .expect("the link signs its learner in");
        let me = classkeys_client::Client::new(&desktop.server().url)
            .unwrap()
            .with_token(session.expose().clone())
            .learner_me()
            .await
            .unwrap();
        assert_eq!(me.learner_id, learner.id);
    }
}

#[tokio::test]
async fn the_duplicates_screen_moves_an_address_to_the_account_the_learner_uses() {
    let desktop = Desktop::start().await;
    desktop.sign_in("teacher1").await;
    let api = desktop.api("teacher1").await;
    let add = async |username: &str, email: Option<&str>| {
        add_to_owls(&api, ("Eli", "Marsh"), username, email).await
    };
    let old = add("eli.marsh", Some("eli@home.example")).await;
    api.learner_set_active(old.id, false, None).await.unwrap();
    let current = add("eli.marsh2", None).await;

    desktop.click("nav-duplicates").await;
    let pair = r#"[data-testid="duplicate-pair"][data-first="eli.marsh"]"#;
    let text = eventually("the pair is listed", async || {
        let text = desktop
            .js(
                "const p = document.querySelector(arguments[0]); return p ? p.textContent : null;",
                vec![json!(pair)],
            )
            .await;
        text.as_str().map(str::to_owned).ok_or(text)
    })
    .await;
    assert!(text.contains("Same name, same class"), "{text}");
    desktop
        .click_css(&format!(r#"{pair} [data-testid="duplicate-move-email"]"#))
        .await;
    eventually("the address moved", async || {
        let learner = api.learner(current.id).await.map_err(|e| e.to_string())?;
        if learner.email.as_deref() == Some("eli@home.example") {
            Ok(())
        } else {
            let screen = desktop.text_now("view-duplicates").await;
            Err(format!("{learner:?} / on screen: {screen}"))
        }
    })
    .await;
    assert_eq!(api.learner(old.id).await.unwrap().email, None);
}

#[tokio::test]
async fn parents_instructions_for_a_learner_are_saved_with_their_username_and_no_password() {
    let desktop = Desktop::start().await;
    desktop.sign_in("teacher1").await;
    let api = desktop.api("teacher1").await;
    desktop.open_class("1 Owls").await;
    let first = eventually("the class lists its learners", async || {
        let rows = desktop.rows().await;
        if rows.is_empty() { Err(rows) } else { Ok(rows) }
    })
    .await
    .remove(0);
    give_password(&api, learner_id(&first.id), "Lantern-Birch-Otter-58").await;
    desktop.open_learner(&first.id).await;
    desktop.click("learner-instructions").await;

    let path = desktop
        .downloads()
        .join(classkeys_domain::downloads::sign_in_instructions(
            &first.username,
        ));
    eventually("the instructions are saved", async || {
        std::fs::metadata(&path)
            .map(drop)
            .map_err(|e| e.to_string())
    })
    .await;
    let out = std::process::Command::new("pdftotext")
        .args([path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&first.username), "{text}");
    assert!(text.contains("/s/demo/sign-in"), "{text}");
    assert!(!text.contains("Lantern-Birch-Otter-58"), "never a password");
}

#[tokio::test]
async fn a_lead_teacher_imports_a_class_list_after_seeing_every_change() {
    let desktop = Desktop::start().await;
    desktop.sign_in("lead").await;
    let api = desktop.api("lead").await;
    let find = async |name: &str| {
        api.learners(&classkeys_protocol::roster::LearnerQuery {
            q: Some(name.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
    };
    // A spreadsheet's class list: a learner for 1 Owls, one for a class the school does not
    // have yet, and a row with an address that is not one.
    std::fs::write(
        desktop.file_to_open(),
        "Student ID;First name;Surname;Form;Email\r\n\
         800;Wren;Okafor;1 Owls;wren@home.example\r\n\
         801;Ivo;Petrov;8 Swifts;\r\n\
         802;Bad;Row;1 Owls;not-an-address\r\n",
    )
    .unwrap();
    desktop.click("nav-import").await;
    desktop.click("import-choose").await;
    let summary = desktop.wait_for_nonempty("import-summary").await;
    assert!(
        summary.contains("1 class to add, 2 learners to add"),
        "{summary}"
    );
    let added = desktop.text("import-added").await;
    assert!(
        added.contains("wren.okafor (made)") && added.contains("8 Swifts"),
        "{added}"
    );
    let refused = desktop.text("import-refused").await;
    assert!(
        refused.contains("roster-file") && refused.contains("not an email address"),
        "the refused row with its file, line and column: {refused}"
    );
    assert!(find("wren").await.is_empty(), "a preview changes nothing");
    desktop.screenshot("app-import").await;

    desktop.click("import-apply").await;
    let result = desktop.wait_for_nonempty("import-result").await;
    assert!(
        result.contains("1 class added, 2 learners added"),
        "{result}"
    );
    let wren = find("wren").await;
    assert_eq!(wren.len(), 1);
    assert_eq!(wren[0].email.as_deref(), Some("wren@home.example"));
    desktop.open_class("8 Swifts").await;
    eventually("the new class lists its learner", async || {
        let rows = desktop.rows().await;
        if rows.iter().any(|r| r.username == "ivo.petrov") {
            Ok(())
        } else {
            Err(rows)
        }
    })
    .await;

    // The same file again: nothing to change, and nothing to apply.
    desktop.click("nav-import").await;
    desktop.click("import-choose").await;
    let nothing = desktop.wait_for_nonempty("import-nothing").await;
    assert!(nothing.contains("Nothing to change"), "{nothing}");

    // A district's export of two schools: the app asks which, and reads that one.
    std::fs::write(
        desktop.file_to_open(),
        include_bytes!("../../crates/roster/tests/fixtures/sis-two-schools.zip"),
    )
    .unwrap();
    desktop.click("import-choose").await;
    let asked = desktop.wait_for_nonempty("import-error").await;
    assert!(
        asked.contains("the export holds 2 schools") && asked.contains("Alder School (s-a)"),
        "{asked}"
    );
    desktop.fill("import-org", "s-a").await;
    desktop.click("import-choose").await;
    let added = desktop.wait_for_nonempty("import-added").await;
    assert!(
        added.contains("ana.alder") && !added.contains("ben.birch"),
        "{added}"
    );
}

#[tokio::test]
async fn a_teacher_is_refused_an_import_by_the_app_itself() {
    let desktop = Desktop::start().await;
    desktop.sign_in("teacher1").await;
    std::fs::write(
        desktop.file_to_open(),
        "First name,Surname,Class\nA,B,1 Owls\n",
    )
    .unwrap();
    let answer = desktop
        .js(
            "return window.__TAURI__.core.invoke('import_preview', { query: {} })
                 .then(() => 'allowed', (e) => e.message);",
            vec![],
        )
        .await;
    assert_eq!(
        answer,
        json!("only lead teachers can import the school's roster: ask a lead teacher to do it")
    );
    let nav = desktop
        .js("return document.getElementById('lead-nav').hidden;", vec![])
        .await;
    assert_eq!(nav, json!(true), "the Import screen is not offered");
}
