//! A spreadsheet's CSV of learners: columns recognised by name in several languages or
//! mapped by hand, Excel's encodings and separators, and the rows that cannot be imported
//! refused with line and column.

use classkeys_roster::Limits;
use classkeys_roster::plain::{Field, read_csv};

fn read(
    bytes: &[u8],
    map: &[(&str, Field)],
) -> Result<Vec<classkeys_roster::plain::PlainLearner>, String> {
    let chosen: Vec<(String, Field)> = map.iter().map(|(h, f)| ((*h).to_owned(), *f)).collect();
    read_csv("class-list.csv", bytes, &chosen, &Limits::default()).map_err(|e| e.to_string())
}

#[test]
fn columns_are_recognised_by_name_in_the_languages_schools_use() {
    let english = read(
        b"Student ID,First Name,Surname,Form,Email\n1001,Ada,Lovelace,3 Owls,ada@home.example\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        (
            english[0].id.as_str(),
            english[0].given_name.as_str(),
            english[0].classes.clone(),
            english[0].line
        ),
        ("1001", "Ada", vec!["3 Owls".to_owned()], 2)
    );
    // Excel on a German Windows: semicolons, Windows-1252.
    let german = "Vorname;Nachname;Klasse\nJürgen;Groß;4b|Chor\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(german);
    let learners = read(&bytes, &[]).unwrap();
    assert_eq!(learners[0].family_name, "Groß");
    assert_eq!(
        learners[0].classes,
        ["4b", "Chor"],
        "several classes, separated by |"
    );
}

#[test]
fn an_unrecognised_column_is_asked_for_and_can_be_mapped_by_hand() {
    let file = b"Kid,Family,Room\nAda,Lovelace,3 Owls\n";
    let asked = read(file, &[]).unwrap_err();
    assert_eq!(
        asked,
        "class-list.csv, line 1: which column holds the given name? None is named so; the \
         columns are: Kid, Family, Room (map it as COLUMN=given_name)"
    );
    let mapped = read(
        file,
        &[
            ("Kid", Field::GivenName),
            ("family", Field::FamilyName),
            ("Room", Field::Class),
        ],
    )
    .unwrap();
    assert_eq!(mapped[0].family_name, "Lovelace");
    assert_eq!(Field::parse("given_name"), Some(Field::GivenName));
    assert_eq!(Field::parse("Vorname"), Some(Field::GivenName));
    let wrong = read(file, &[("Kind", Field::GivenName)]).unwrap_err();
    assert!(wrong.contains("there is no column named Kind"), "{wrong}");
}

#[test]
fn rows_that_cannot_be_imported_are_refused_with_line_and_column() {
    let cases: [(&[u8], &str); 4] = [
        (
            b"id,given name,family name,class\n1,Ada,Lovelace,3 Owls\n1,Bo,Lee,3 Owls\n",
            "class-list.csv, line 3, column id: the id 1 is also on line 2: each learner needs their own",
        ),
        (
            b"given name,family name,class\nAda,,3 Owls\n",
            "class-list.csv, line 2, column family name: the family name is empty",
        ),
        (
            b"given name,family name,class,username\nAda,L,3 Owls,ada\nAda,M,3 Owls,ADA\n",
            "class-list.csv, line 3, column username: the username ADA is also on line 2",
        ),
        (
            b"given name,family name,class\nAda,Lovelace,\n",
            "class-list.csv, line 2, column class: the class is empty",
        ),
    ];
    for (file, refusal) in cases {
        assert_eq!(read(file, &[]).unwrap_err(), refusal);
    }
}

#[test]
fn a_spreadsheets_learners_are_known_by_id_else_username_else_email_else_name() {
    let file = b"id,given name,family name,class,username,email\n\
        1001,Ada,Lovelace,3 Owls|Choir,,\n\
        ,Ben,Okafor,3 Owls,Ben.O,\n\
        ,Cleo,Marsh,Choir,,cleo@home.example\n\
        ,Dan,Quill,3 Owls,,\n";
    let learners = read(file, &[]).unwrap();
    let incoming = classkeys_roster::plain::incoming("class-list.csv", &learners);
    let ids: Vec<&str> = incoming
        .learners
        .iter()
        .map(|l| l.source_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "1001",
            "csv:ben.o",
            "csv:cleo@home.example",
            "csv:dan quill"
        ]
    );
    let classes: Vec<&str> = incoming.classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        classes,
        ["3 Owls", "Choir"],
        "each class once, in the file's order"
    );
    assert!(incoming.complete);
}

#[test]
fn a_column_map_is_one_column_a_line_and_names_a_field_it_knows() {
    use classkeys_roster::plain::parse_map;
    assert_eq!(
        parse_map("Kid=given_name\n\n  Nachname = Surname \nRoom=class").unwrap(),
        [
            ("Kid".to_owned(), Field::GivenName),
            ("Nachname".to_owned(), Field::FamilyName),
            ("Room".to_owned(), Field::Class),
        ]
    );
    assert_eq!(
        parse_map("Kid=nickname").unwrap_err().to_string(),
        "the column map: \"nickname\" is not a field: use id, given_name, family_name, \
         class, username, email"
    );
    assert!(
        parse_map("Kid")
            .unwrap_err()
            .to_string()
            .contains("write COLUMN=field")
    );
}
